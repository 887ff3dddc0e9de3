package cli

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

const (
	// catHighWater is the outbound backlog past which sending waits for the socket:
	// the engine never blocks a write, so a fast stdin (a file piped in) would
	// otherwise hit MaxWriteBuffer and lose lines.
	catHighWater = 1 << 20
	// catLowWater is where the wait ends (Config.DrainLowWater).
	catLowWater = 256 << 10
	// catCloseSlack is how long past the engine's CloseTimeout (-close-timeout)
	// weir cat waits for the end of a closing handshake before it aborts the
	// connection itself: the engine's timer should have ended it by then.
	catCloseSlack = time.Second
)

// catClosedError reports a connection that ended other than by a clean close
// handshake with 1000, 1001 or no status (or one weir cat started): the close status, and
// why when there was no clean handshake. It unwraps to an *engine.CloseError, so
// engine.CloseStatus reads its code, and to the cause.
type catClosedError struct {
	Code   frame.StatusCode
	Reason string
	Err    error // nil after a clean close handshake
}

func (e *catClosedError) Error() string {
	s := "disconnected: " + catCloseText(e.Code, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *catClosedError) Unwrap() []error {
	errs := []error{&engine.CloseError{Code: e.Code, Reason: e.Reason}}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// catSession is one open connection of weir cat.
type catSession struct {
	o       *catOptions
	p       *catPrinter
	h       *catHandler
	c       *engine.Conn
	slash   bool
	closing atomic.Bool      // weir cat started the closing handshake
	sent    frame.StatusCode // the code of the close weir cat sent, once closing
	pingSeq int
}

// run drives the session until the connection ends: stdin lines (or the -x
// messages) out, periodic pings, and the close at the end of stdin or of ctx.
func (s *catSession) run(ctx context.Context, stdin io.Reader) error {
	var tick <-chan time.Time
	if s.o.ping > 0 {
		t := time.NewTicker(s.o.ping)
		defer t.Stop()
		tick = t.C
	}
	if len(s.o.execute) > 0 {
		return s.oneShot(ctx, tick)
	}

	lines := make(chan string)
	readErr := make(chan error, 1)
	quit := make(chan struct{})
	defer close(quit)
	go catReadLines(stdin, lines, readErr, quit)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				if err := <-readErr; err != nil {
					s.p.notef("reading stdin: %v", err)
				}
				return s.closeAndWait(s.o.closeCode, s.o.closeReason)
			}
			if s.line(line) {
				return s.wait()
			}
		case <-tick:
			s.sendPing()
		case <-s.h.done:
			return s.result()
		case <-ctx.Done():
			return s.closeAndWait(frame.StatusNormalClosure, "")
		}
	}
}

// oneShot sends the -x messages, prints the first reply (or every reply for
// -wait), then closes.
func (s *catSession) oneShot(ctx context.Context, tick <-chan time.Time) error {
	for _, m := range s.o.execute {
		s.send(m, s.o.binary)
	}
	got := s.h.got
	var timeout <-chan time.Time
	if s.o.wait > 0 {
		t := time.NewTimer(s.o.wait)
		defer t.Stop()
		got, timeout = nil, t.C
	}
	for {
		select {
		case <-got:
		case <-timeout:
		case <-tick:
			s.sendPing()
			continue
		case <-s.h.done:
			return s.result()
		case <-ctx.Done():
		}
		return s.closeAndWait(s.o.closeCode, s.o.closeReason)
	}
}

// catReadLines sends stdin's lines, without their line ending, until EOF (a last
// line without one included), then its error (nil at EOF) and closes lines. It
// ends early when quit is closed, or once a blocked Read returns.
func catReadLines(r io.Reader, lines chan<- string, readErr chan<- error, quit <-chan struct{}) {
	defer close(lines)
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if len(line) > 0 || err == nil {
			line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
			select {
			case lines <- line:
			case <-quit:
				return
			}
		}
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			readErr <- err
			return
		}
	}
}

// line acts on one line of stdin; it reports whether the session is closing.
func (s *catSession) line(line string) bool {
	if s.slash && strings.HasPrefix(line, "/") {
		if !strings.HasPrefix(line, "//") {
			return s.command(line)
		}
		line = line[1:]
	}
	s.send(line, s.o.binary)
	return false
}

// command runs a slash command; it reports whether the session is closing.
func (s *catSession) command(line string) bool {
	name, arg, _ := strings.Cut(line[1:], " ")
	switch name {
	case "ping":
		s.report(s.h.ping(s.c, arg))
	case "pong":
		s.report(s.c.Pong([]byte(arg)))
	case "binary":
		s.send(arg, true)
	case "text":
		s.send(arg, false)
	case "close":
		code := frame.StatusNormalClosure
		codeArg, reason, _ := strings.Cut(strings.TrimSpace(arg), " ")
		if codeArg != "" {
			n, err := strconv.ParseUint(codeArg, 10, 16)
			if err != nil || !frame.StatusCode(n).IsValidOnWire() {
				s.p.notef("/close: %q is not a close code that may be sent (RFC 6455 §7.4)", codeArg)
				return false
			}
			code = frame.StatusCode(n)
		}
		if err := s.c.Close(code, reason); err != nil && !errors.Is(err, engine.ErrClosed) {
			s.p.notef("/close: %v", err)
			return false
		}
		s.sent = code
		s.closing.Store(true)
		return true
	case "help":
		s.p.notef("%s", strings.TrimSpace(catSlashHelp))
	default:
		s.p.notef("unknown command /%s (/help lists them; // sends a line starting with /)", name)
	}
	return false
}

const catSlashHelp = `
/ping [payload]          send a ping; the pong's round trip is printed
/pong [payload]          send an unsolicited pong
/close [code [reason]]   start the closing handshake (default 1000) and exit
/binary text             send text as a binary message
/text text               send text as a text message
//text                   send "/text"`

// send writes one message, first waiting while the socket is behind.
func (s *catSession) send(m string, binary bool) {
	for s.c.BufferedAmount() > catHighWater {
		select {
		case <-s.h.drained:
		case <-s.h.done:
			return
		}
	}
	if binary {
		s.report(s.c.WriteMessage(frame.OpBinary, []byte(m)))
		return
	}
	if !utf8.ValidString(m) {
		// A text message must be UTF-8 (RFC 6455 §8.1); the server would fail the
		// connection with 1007.
		s.p.notef("not sent: the line is not valid UTF-8 (use -binary or /binary)")
		return
	}
	s.report(s.c.WriteText(m))
}

// sendPing sends the next periodic ping.
func (s *catSession) sendPing() {
	s.pingSeq++
	s.report(s.h.ping(s.c, "weir cat "+strconv.Itoa(s.pingSeq)))
}

// report prints a write error; ErrClosed is left to the close that follows.
func (s *catSession) report(err error) {
	if err != nil && !errors.Is(err, engine.ErrClosed) {
		s.p.notef("send: %v", err)
	}
}

// closeAndWait starts the closing handshake and waits for its end.
func (s *catSession) closeAndWait(code frame.StatusCode, reason string) error {
	select {
	case <-s.h.done: // the server was first
		return s.result()
	default:
	}
	s.sent = code
	s.closing.Store(true)
	if err := s.c.Close(code, reason); err != nil && !errors.Is(err, engine.ErrClosed) {
		s.p.notef("close: %v", err)
		s.c.Abort()
	}
	return s.wait()
}

// wait waits for the connection to end, bounded: the engine gives the peer
// Config.CloseTimeout (-close-timeout) to answer a close, and catCloseSlack
// more is the backstop.
func (s *catSession) wait() error {
	t := time.NewTimer(s.o.closeTimeout + catCloseSlack)
	defer t.Stop()
	select {
	case <-s.h.done:
	case <-t.C:
		s.c.Abort()
		<-s.h.done
	}
	return s.result()
}

// result is the session's outcome once the connection has ended (h.done).
func (s *catSession) result() error {
	h := s.h
	s.p.end()
	if s.closing.Load() {
		// The server's close frame answers ours: an echo of our code, or a
		// normal end, is success. Any other code is what the server had to say,
		// most often sent before it saw our close (echo bad | weir cat URL, and
		// the server rejects "bad" with 1003), and it decides the exit status.
		if h.err != nil || !(h.code == s.sent || catNormalEnd(h.code)) {
			return &catClosedError{Code: h.code, Reason: h.reason, Err: h.err}
		}
		if !s.o.quiet {
			s.p.notef("disconnected: %s", catCloseText(h.code, h.reason))
		}
		return nil
	}
	// A close frame with no status (1005) after a clean handshake is a normal end
	// too: some servers close that way, and wscat exits 0 on it.
	if h.code == frame.StatusNormalClosure || h.code == frame.StatusGoingAway ||
		h.code == frame.StatusNoStatusRcvd && h.err == nil {
		if !s.o.quiet {
			s.p.notef("disconnected by the server: %s", catCloseText(h.code, h.reason))
		}
		return nil
	}
	return &catClosedError{Code: h.code, Reason: h.reason, Err: h.err}
}

// catNormalEnd reports whether a server's close code after a clean closing
// handshake ends the session normally: 1000, 1001, or a close frame with no
// status (1005), as some servers close and wscat exits 0 on.
func catNormalEnd(code frame.StatusCode) bool {
	return code == frame.StatusNormalClosure || code == frame.StatusGoingAway || code == frame.StatusNoStatusRcvd
}
