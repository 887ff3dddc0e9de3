package interop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

// Bad-peer resource cases: peers that go silent, vanish, or misbehave around the
// close.

func silentClient(logf func(string, ...any), m badMode) error {
	rec := newRecorder()
	srv, r, _, err := openRaw(rec, m.config(engine.Config{PingInterval: 200 * time.Millisecond, PongTimeout: 300 * time.Millisecond, TimerResolution: 10 * time.Millisecond}))
	if err != nil {
		return err
	}
	defer closeServer(srv)
	defer r.nc.Close()
	select {
	case ev := <-rec.closed:
		if ev.code != 1006 || !errors.Is(ev.err, engine.ErrPeerTimeout) {
			return fmt.Errorf("OnClose %d %v, want 1006 %v", ev.code, ev.err, engine.ErrPeerTimeout)
		}
	case <-time.After(badTimeout):
		return errors.New("a silent peer was never dropped")
	}
	r.startFrames()
	h, _, err := r.next(badTimeout)
	if err != nil || h.Opcode != frame.OpPing {
		return fmt.Errorf("first frame to the silent peer: %v %v, want a keepalive ping", h.Opcode, err)
	}
	if err := r.expectEOF(badTimeout); err != nil {
		return err
	}
	return waitNoConns(srv)
}

func silentServer(logf func(string, ...any), m badMode) error {
	srv, err := newRawServer(func(nc net.Conn, br *bufio.Reader, req *http.Request) {
		nc.Write([]byte(accept101(req.Header.Get("Sec-WebSocket-Key"))))
		// Then nothing: keep the socket open, read nothing, answer nothing.
		time.Sleep(badTimeout)
		nc.Close()
	})
	if err != nil {
		return err
	}
	defer srv.close()
	rec := newRecorder()
	cfg := m.config(engine.Config{PingInterval: 200 * time.Millisecond, PongTimeout: 300 * time.Millisecond, TimerResolution: 10 * time.Millisecond})
	cl, err := engine.NewClient(nil, &cfg)
	if err != nil {
		return err
	}
	defer closeClient(cl)
	if _, _, err := cl.Dial(context.Background(), srv.url(), &engine.DialOptions{Handler: rec, NoProxy: true}); err != nil {
		return err
	}
	select {
	case ev := <-rec.closed:
		if ev.code != 1006 || !errors.Is(ev.err, engine.ErrPeerTimeout) {
			return fmt.Errorf("OnClose %d %v, want 1006 %v", ev.code, ev.err, engine.ErrPeerTimeout)
		}
	case <-time.After(badTimeout):
		return errors.New("a silent server was never dropped")
	}
	return nil
}

func vanishMidFrame(logf func(string, ...any), m badMode) error {
	rec := newRecorder()
	srv, r, _, err := openRaw(rec, m.config(engine.Config{}))
	if err != nil {
		return err
	}
	defer closeServer(srv)
	b := cf(true, frame.OpBinary, binaryPayload(1000))
	r.nc.Write(b[:500])
	time.Sleep(20 * time.Millisecond)
	r.nc.Close()
	select {
	case ev := <-rec.closed:
		if ev.code != 1006 || !errors.Is(ev.err, engine.ErrAbnormalClosure) {
			return fmt.Errorf("OnClose %d %v, want 1006 %v", ev.code, ev.err, engine.ErrAbnormalClosure)
		}
	case <-time.After(badTimeout):
		return errors.New("no OnClose")
	}
	return waitNoConns(srv)
}

func dataAfterClose(logf func(string, ...any), m badMode) error {
	rec := newRecorder()
	srv, r, _, err := openRaw(rec, m.config(engine.Config{}))
	if err != nil {
		return err
	}
	defer closeServer(srv)
	defer r.nc.Close()
	r.startFrames()
	r.write(append(cf(true, frame.OpClose, closePayload(1000, "done")), cf(true, frame.OpText, []byte("too late"))...))
	code, _, err := r.expectClose(badTimeout)
	if err != nil || code != 1000 {
		return fmt.Errorf("close answer %d %v, want 1000", code, err)
	}
	if err := r.expectEOF(badTimeout); err != nil {
		return err
	}
	select {
	case ev := <-rec.closed:
		if ev.code != 1000 || ev.reason != "done" || ev.err != nil {
			return fmt.Errorf("OnClose %d %q %v, want 1000 \"done\" nil", ev.code, ev.reason, ev.err)
		}
	case <-time.After(badTimeout):
		return errors.New("no OnClose")
	}
	select {
	case m := <-rec.msgs:
		return fmt.Errorf("message %q delivered after the close frame", m.data)
	default:
	}
	return waitNoConns(srv)
}

// violatorStays: after weir fails the connection the peer keeps its socket open
// and says nothing; weir must not wait for it longer than CloseTimeout.
func violatorStays(logf func(string, ...any), m badMode) error {
	rec := newRecorder()
	srv, r, _, err := openRaw(rec, m.config(engine.Config{CloseTimeout: 300 * time.Millisecond, TimerResolution: 10 * time.Millisecond}))
	if err != nil {
		return err
	}
	defer closeServer(srv)
	defer r.nc.Close()
	r.startFrames()
	r.write(wireFrame(true, frame.OpText, 0, []byte("unmasked"), false))
	code, _, err := r.expectClose(badTimeout)
	if err != nil || code != 1002 {
		return fmt.Errorf("close %d %v, want 1002", code, err)
	}
	select {
	case ev := <-rec.closed:
		if ev.code != 1002 || !errors.Is(ev.err, engine.ErrUnmaskedFrame) {
			return fmt.Errorf("OnClose %d %v, want 1002 %v", ev.code, ev.err, engine.ErrUnmaskedFrame)
		}
	case <-time.After(badTimeout):
		return errors.New("weir waits forever for a violating peer to hang up")
	}
	if err := r.expectEOF(badTimeout); err != nil {
		return err
	}
	return waitNoConns(srv)
}

// closeUnanswered: weir closes; the peer reads nothing and never answers.
func closeUnanswered(logf func(string, ...any), m badMode) error {
	rec := newRecorder()
	srv, r, c, err := openRaw(rec, m.config(engine.Config{CloseTimeout: 300 * time.Millisecond, TimerResolution: 10 * time.Millisecond}))
	if err != nil {
		return err
	}
	defer closeServer(srv)
	defer r.nc.Close()
	if err := c.Close(1000, "bye"); err != nil {
		return err
	}
	select {
	case ev := <-rec.closed:
		if ev.code != 1006 || !errors.Is(ev.err, engine.ErrCloseTimeout) {
			return fmt.Errorf("OnClose %d %v, want 1006 %v", ev.code, ev.err, engine.ErrCloseTimeout)
		}
	case <-time.After(badTimeout):
		return errors.New("weir waits forever for the close answer")
	}
	r.startFrames()
	code, _, err := r.expectClose(badTimeout)
	if err != nil || code != 1000 {
		return fmt.Errorf("weir's close frame %d %v, want 1000", code, err)
	}
	if err := r.expectEOF(badTimeout); err != nil {
		return err
	}
	return waitNoConns(srv)
}
