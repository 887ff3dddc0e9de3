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

// Bad-peer resource cases: input that trickles in or never completes.

func dripServer(logf func(string, ...any), m badMode) error {
	rec := newRecorder()
	rec.echo = true
	srv, addr, err := startBadServer(rec, m.config(engine.Config{}))
	if err != nil {
		return err
	}
	defer closeServer(srv)
	r, resp, err := rawHandshake(addr, stdReq().bytes(addr), true)
	if err != nil {
		return err
	}
	defer r.nc.Close()
	if resp.StatusCode != 101 {
		return fmt.Errorf("dripped handshake: status %d", resp.StatusCode)
	}
	r.drip = true
	r.startFrames()
	steps := []struct {
		in   []byte
		op   frame.Opcode
		want []byte
	}{
		{cf(true, frame.OpText, []byte("dripped 😀")), frame.OpText, []byte("dripped 😀")},
		{append(cf(false, frame.OpText, []byte("frag-")), cf(true, frame.OpContinuation, []byte("mented é"))...), frame.OpText, []byte("frag-mented é")},
		{cf(true, frame.OpBinary, binaryPayload(300)), frame.OpBinary, binaryPayload(300)},
	}
	for i, s := range steps {
		if err := r.write(s.in); err != nil {
			return err
		}
		op, got, err := r.expectMessage(badTimeout)
		if err != nil {
			return fmt.Errorf("step %d: %w", i, err)
		}
		if op != s.op || string(got) != string(s.want) {
			return fmt.Errorf("step %d: echo %v %q, want %v %q", i, op, clip(string(got)), s.op, clip(string(s.want)))
		}
	}
	if err := r.write(cf(true, frame.OpPing, []byte("drip-ping"))); err != nil {
		return err
	}
	h, p, err := r.next(badTimeout)
	if err != nil || h.Opcode != frame.OpPong || string(p) != "drip-ping" {
		return fmt.Errorf("after a dripped ping: %v %q %v, want a pong", h.Opcode, p, err)
	}
	if err := r.write(cf(true, frame.OpClose, closePayload(1000, "bye"))); err != nil {
		return err
	}
	code, _, err := r.expectClose(badTimeout)
	if err != nil || code != 1000 {
		return fmt.Errorf("close answer %d %v, want 1000", code, err)
	}
	if err := r.expectEOF(badTimeout); err != nil {
		return err
	}
	ev := <-rec.closed
	if ev.code != 1000 || ev.reason != "bye" || ev.err != nil {
		return fmt.Errorf("OnClose %d %q %v, want 1000 \"bye\" nil", ev.code, ev.reason, ev.err)
	}
	return waitNoConns(srv)
}

func dripClient(logf func(string, ...any), m badMode) error {
	done := make(chan error, 1)
	srv, err := newRawServer(func(nc net.Conn, br *bufio.Reader, req *http.Request) {
		defer nc.Close()
		w := &rawConn{nc: nc, br: br, drip: true}
		w.startFrames()
		out := append([]byte(accept101(req.Header.Get("Sec-WebSocket-Key"))), sf(true, frame.OpText, []byte("hello, dripped"))...)
		out = append(out, sf(true, frame.OpPing, []byte("srv-ping"))...)
		if err := w.write(out); err != nil {
			done <- err
			return
		}
		h, p, err := w.next(badTimeout)
		if err != nil || h.Opcode != frame.OpPong || string(p) != "srv-ping" || !h.Masked {
			done <- fmt.Errorf("weir's answer to a ping: %v %q masked=%v %v", h.Opcode, p, h.Masked, err)
			return
		}
		if err := w.write(sf(true, frame.OpClose, closePayload(1001, "leaving"))); err != nil {
			done <- err
			return
		}
		code, _, err := w.expectClose(badTimeout)
		if err != nil || code != 1001 {
			done <- fmt.Errorf("weir's close answer %d %v, want 1001", code, err)
			return
		}
		done <- nil
	})
	if err != nil {
		return err
	}
	defer srv.close()
	rec := newRecorder()
	cfg := m.config(engine.Config{})
	cl, err := engine.NewClient(nil, &cfg)
	if err != nil {
		return err
	}
	defer closeClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), badTimeout)
	defer cancel()
	if _, _, err := cl.Dial(ctx, srv.url(), &engine.DialOptions{Handler: rec, NoProxy: true}); err != nil {
		return fmt.Errorf("Dial against a dripped 101: %w", err)
	}
	select {
	case m := <-rec.msgs:
		if m.op != frame.OpText || string(m.data) != "hello, dripped" {
			return fmt.Errorf("message %v %q", m.op, m.data)
		}
	case <-time.After(badTimeout):
		return errors.New("no message")
	}
	if err := <-done; err != nil {
		return err
	}
	select {
	case ev := <-rec.closed:
		if ev.code != 1001 || ev.reason != "leaving" || ev.err != nil {
			return fmt.Errorf("OnClose %d %q %v, want 1001 \"leaving\" nil", ev.code, ev.reason, ev.err)
		}
	case <-time.After(badTimeout):
		return errors.New("no OnClose")
	}
	return nil
}

func endlessHeaders(logf func(string, ...any), m badMode) error {
	rec := newRecorder()
	srv, addr, err := startBadServer(rec, m.config(engine.Config{HandshakeTimeout: badTimeout}))
	if err != nil {
		return err
	}
	defer closeServer(srv)
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	r := newRawConn(nc, false)
	ch := make(chan *http.Response, 1)
	go func() {
		resp, _ := http.ReadResponse(r.br, nil)
		ch <- resp
	}()
	start := time.Now()
	nc.Write([]byte("GET /ws HTTP/1.1\r\nHost: " + addr + "\r\n"))
	for i := 0; ; i++ {
		select {
		case resp := <-ch:
			if resp == nil {
				return errors.New("the connection closed with no answer")
			}
			if resp.StatusCode != 431 {
				return fmt.Errorf("status %d, want 431", resp.StatusCode)
			}
			if time.Since(start) >= badTimeout {
				return errors.New("answered only at the handshake timeout")
			}
			return waitNoConns(srv)
		default:
		}
		if _, err := fmt.Fprintf(nc, "X-Drip-%d: %s\r\n", i, "0123456789"); err != nil {
			resp := <-ch
			if resp == nil || resp.StatusCode != 431 {
				return fmt.Errorf("write failed (%v) and the answer was %v, want 431", err, resp)
			}
			return waitNoConns(srv)
		}
		time.Sleep(time.Millisecond)
	}
}

func handshakeTimeout(logf func(string, ...any), m badMode) error {
	rec := newRecorder()
	srv, addr, err := startBadServer(rec, m.config(engine.Config{HandshakeTimeout: 300 * time.Millisecond, TimerResolution: 10 * time.Millisecond}))
	if err != nil {
		return err
	}
	defer closeServer(srv)
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	nc.Write([]byte("GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: web"))
	nc.SetReadDeadline(time.Now().Add(badTimeout))
	var buf [512]byte
	n, err := nc.Read(buf[:])
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return errors.New("the half-sent request was never dropped")
	case n > 0:
		return fmt.Errorf("weir answered %q, want the connection dropped", buf[:n])
	}
	if err := waitNoConns(srv); err != nil {
		return err
	}
	select {
	case <-rec.open:
		return errors.New("OnOpen for an incomplete handshake")
	default:
	}
	return nil
}
