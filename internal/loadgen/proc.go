package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrExited is returned by Proc.Next once the generator's events have ended: it
// exited, crashed or was killed. A decoding or generator error is wrapped with it.
var ErrExited = errors.New("loadgen: generator exited")

// Proc is the parent's side of one generator: it writes commands and reads events.
// Send and Next may be called from different goroutines, but Next from one at a
// time.
type Proc struct {
	cmds io.WriteCloser
	ev   chan Event
	err  error // why the events ended; written before ev is closed
}

// NewProc drives the generator that reads cmds and writes events, for example a
// child process's stdin and stdout.
func NewProc(cmds io.WriteCloser, events io.Reader) *Proc {
	p := &Proc{cmds: cmds, ev: make(chan Event, 16)}
	go p.read(events)
	return p
}

// Local starts a generator in this process, over pipes, and returns its Proc.
// Cancelling ctx stops the generator.
func Local(ctx context.Context, o Options, log io.Writer) *Proc {
	cr, cw := io.Pipe()
	er, ew := io.Pipe()
	go func() {
		err := Serve(ctx, o, cr, ew, log)
		cr.Close() // later commands fail with io.ErrClosedPipe
		ew.CloseWithError(err)
	}()
	return NewProc(cw, er)
}

func (p *Proc) read(r io.Reader) {
	defer close(p.ev)
	dec := json.NewDecoder(r)
	for {
		var e Event
		if err := dec.Decode(&e); err != nil {
			if err != io.EOF {
				p.err = err
			}
			return
		}
		p.ev <- e
	}
}

// Send writes one command (CmdGo, CmdMark ...).
func (p *Proc) Send(cmd string) error {
	_, err := io.WriteString(p.cmds, cmd+"\n")
	return err
}

// Next returns the generator's next event.
func (p *Proc) Next(ctx context.Context) (Event, error) {
	select {
	case e, ok := <-p.ev:
		if !ok {
			if p.err != nil {
				return Event{}, fmt.Errorf("%w: %w", ErrExited, p.err)
			}
			return Event{}, ErrExited
		}
		return e, nil
	case <-ctx.Done():
		return Event{}, ctx.Err()
	}
}

// Await returns the next event named ev; the events before it go to other (nil:
// dropped), so a parent can follow progress while it waits.
func (p *Proc) Await(ctx context.Context, ev string, other func(Event)) (Event, error) {
	for {
		e, err := p.Next(ctx)
		if err != nil || e.Ev == ev {
			return e, err
		}
		if other != nil {
			other(e)
		}
	}
}

// Close ends the command stream, which makes the generator close its connections
// and end as at "quit", and discards its events until they end. For a child process
// they end when it exits; Close returns once they have, so it blocks as long as
// the generator takes to finish (kill a stuck child to end it). Next must not be
// called after Close.
func (p *Proc) Close() error {
	err := p.cmds.Close()
	for range p.ev {
	}
	return err
}
