package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Commands, one a line on a generator's input (see the package documentation).
const (
	CmdGo     = "go"
	CmdMark   = "mark"
	CmdBcast  = "bcast"
	CmdReport = "report"
	CmdStop   = "stop"
	CmdQuit   = "quit"
)

// Event names, in Event.Ev.
const (
	EvProgress = "progress"
	EvReady    = "ready"
	EvMarked   = "marked"
	EvArmed    = "armed"
	EvResult   = "result"
)

// ErrCommand is returned by Serve for a command word it does not know.
var ErrCommand = errors.New("loadgen: unknown command")

// progressEvery is how often the connect phase and a storm send "progress".
const progressEvery = 500 * time.Millisecond

// Event is one line of a generator's output. Zero fields are left out.
type Event struct {
	Ev string `json:"ev"`
	// Conns and Failed count the connections opened and the dials that failed
	// (progress, ready); Compressed those that negotiated permessage-deflate (ready).
	Conns      int64 `json:"conns,omitempty"`
	Failed     int64 `json:"failed,omitempty"`
	Compressed int64 `json:"compressed,omitempty"`
	// Msgs counts echo round trips (open loop, fanout: stamped messages
	// received), Handshakes storm dials, Errors failed writes, wrong-sized echoes
	// and failed storm dials, all since the last mark (result; storm progress).
	Msgs       uint64 `json:"msgs,omitempty"`
	Handshakes uint64 `json:"handshakes,omitempty"`
	// Sent counts the messages the open loop or the fan-out publishers sent
	// that were due since the last mark (result): a message due before it and
	// sent late is not counted, as its deliveries are not.
	Sent   uint64 `json:"sent,omitempty"`
	Errors uint64 `json:"errors,omitempty"`
	// Hist holds the round trips (storm: the handshakes) since the last mark.
	Hist Hist `json:"hist,omitempty"`
	// Open is the number of connections open now (result).
	Open int64 `json:"open,omitempty"`
	// Window is how long a result's counts cover, in ns: from this
	// generator's last mark to its report (0 before a mark). It is the window
	// to divide by: a generator short of CPU obeys "mark" and "report" late,
	// so its window can be much longer than the parent's time between them.
	Window int64 `json:"window_ns,omitempty"`
	// BcastGot counts connections that got the armed broadcast, and BcastLast is
	// when the last of them did (unix ns; 0 until all have).
	BcastGot  int64 `json:"bcast_got,omitempty"`
	BcastLast int64 `json:"bcast_last,omitempty"`
}

// Serve runs one generator with o: it connects, sends "ready" to events, then obeys
// the commands read from cmds until "quit" or their end, and closes every
// connection before it returns. Cancelling ctx ends it as quit does, but returns
// ctx's error. log receives the first few dial errors.
func Serve(ctx context.Context, o Options, cmds io.Reader, events io.Writer, log io.Writer) error {
	if err := o.Check(); err != nil {
		return err
	}
	g, err := newGen(o, log)
	if err != nil {
		return err
	}
	defer g.close()
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lines := readCommands(ctx, cancel, cmds)
	out := &emitter{enc: json.NewEncoder(events)}

	if !o.Storm {
		stop := out.every(func() Event { return Event{Ev: EvProgress, Conns: g.up.Load(), Failed: g.failed.Load()} })
		g.connect(ctx)
		stop()
		if ctx.Err() != nil {
			return parent.Err()
		}
	}
	out.emit(Event{Ev: EvReady, Conns: g.up.Load(), Failed: g.failed.Load(), Compressed: g.compressed.Load()})

	var stormDone chan struct{}
	defer func() {
		cancel()
		if stormDone != nil {
			<-stormDone
		}
		g.pub.Wait()
	}()
	for {
		var cmd string
		select {
		case c, ok := <-lines:
			if !ok {
				return endErr(parent, out)
			}
			cmd = c
		case <-ctx.Done(): // the parent's context: lines may still wait on input
			return endErr(parent, out)
		}
		switch cmd {
		case CmdGo:
			if !o.Storm {
				g.begin(ctx)
			} else if stormDone == nil {
				stormDone = make(chan struct{})
				go func() {
					defer close(stormDone)
					stop := out.every(func() Event {
						return Event{Ev: EvProgress, Handshakes: g.handshakes.Load(), Errors: g.errs.Load()}
					})
					g.storm(ctx)
					stop()
					out.emit(g.report())
				}()
			}
		case CmdMark:
			g.mark()
			out.emit(Event{Ev: EvMarked})
		case CmdBcast:
			g.armBcast()
			out.emit(Event{Ev: EvArmed})
		case CmdReport:
			out.emit(g.report())
		case CmdStop:
			g.mode.Store(modeIdle)
		default:
			return fmt.Errorf("%w %q", ErrCommand, cmd)
		}
	}
}

// endErr is why Serve ends: the parent context's end, a failure to write events,
// or nothing.
func endErr(parent context.Context, out *emitter) error {
	if err := parent.Err(); err != nil {
		return err
	}
	return out.failed()
}

// readCommands delivers the command lines of r on the returned channel. At "quit",
// at the end of r or when ctx ends it closes the channel and calls cancel, which
// also stops a connect phase or a storm in progress.
func readCommands(ctx context.Context, cancel context.CancelFunc, r io.Reader) <-chan string {
	lines := make(chan string)
	go func() {
		defer close(lines)
		defer cancel()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			cmd := strings.TrimSpace(sc.Text())
			if cmd == CmdQuit {
				return
			}
			if cmd == "" {
				continue
			}
			select {
			case lines <- cmd:
			case <-ctx.Done():
				return
			}
		}
	}()
	return lines
}

// emitter writes events, one JSON object a line, from several goroutines.
type emitter struct {
	mu  sync.Mutex
	enc *json.Encoder
	err error // the first write error: the parent has gone
}

func (e *emitter) emit(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err == nil {
		e.err = e.enc.Encode(ev)
	}
}

func (e *emitter) failed() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err != nil {
		return fmt.Errorf("loadgen: writing events: %w", e.err)
	}
	return nil
}

// every emits ev() every progressEvery until the returned stop is called.
func (e *emitter) every(ev func() Event) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				e.emit(ev())
			case <-done:
				return
			}
		}
	}()
	return func() { close(done); <-finished }
}
