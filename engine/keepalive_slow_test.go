package engine

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// slowReader reads at most chunk bytes per call, pausing between calls: a
// peer on a slow link.
type slowReader struct {
	nc    net.Conn
	chunk int
	pause time.Duration
}

func (r slowReader) Read(p []byte) (int, error) {
	time.Sleep(r.pause)
	return r.nc.Read(p[:min(len(p), r.chunk)])
}

// TestKeepaliveKeepsSlowReader: a peer still taking a big message, slowly,
// cannot answer a keepalive ping queued behind it (in the engine's queue or
// the kernel's), yet it is plainly alive. Output it takes counts as a sign of
// life, as input does; the keepalive dropped it mid-message (1006,
// ErrPeerTimeout) when only input counted.
func TestKeepaliveKeepsSlowReader(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg = fastTimers(cfg)
		cfg.PingInterval = 100 * time.Millisecond
		cfg.PongTimeout = time.Second                      // a reader's stall on a busy machine is not what this tests
		msg := bytes.Repeat([]byte("slow link "), 300<<10) // 3 MiB
		// Framed and masked before the handshake: under -race on a busy
		// machine that alone can outlast the keepalive.
		upload := frameBytes(true, frame.OpBinary, 0, msg, true)
		h := newEcho()
		_, addr := startServer(t, h, cfg, nil)
		nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		nc.(*net.TCPConn).SetReadBuffer(16 << 10) // the kernel does not take it all at once
		rc, resp := handshakeRaw(t, nc, addr)
		if resp.StatusCode != 101 {
			t.Fatalf("handshake status %d", resp.StatusCode)
		}
		nc.SetDeadline(time.Now().Add(2 * time.Minute))
		if _, err := nc.Write(upload); err != nil {
			select {
			case r := <-h.closed:
				t.Fatalf("sending: %v; the server closed: %d %v", err, r.code, r.err)
			case <-time.After(5 * time.Second):
				t.Fatalf("sending: %v", err)
			}
		}
		// About 2 s at 16 KiB per 10 ms, against a keepalive that gives up
		// 1.1 s after the last input when only input counts.
		rc.br = bufio.NewReaderSize(slowReader{nc: nc, chunk: 16 << 10, pause: 10 * time.Millisecond}, 16<<10)
		var got []byte
		for len(got) < len(msg) {
			hd, p, err := rc.readFrame()
			if err != nil {
				t.Fatalf("after %d of %d bytes: %v", len(got), len(msg), err)
			}
			switch hd.Opcode {
			case frame.OpPing:
				rc.send(true, frame.OpPong, p)
			case frame.OpBinary, frame.OpContinuation:
				got = append(got, p...)
			default:
				t.Fatalf("after %d bytes: %v frame", len(got), hd.Opcode)
			}
		}
		if !bytes.Equal(got, msg) {
			t.Fatal("echo differs")
		}
		select {
		case r := <-h.closed:
			t.Fatalf("dropped while reading: %d %v", r.code, r.err)
		default:
		}
	})
}

// TestKeepaliveDropsStalledReader: a peer that stops reading while output is
// queued for it takes nothing more once the buffers are full, so output does
// not keep it alive: dropped (1006, ErrPeerTimeout) as a silent peer is.
func TestKeepaliveDropsStalledReader(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg = fastTimers(cfg)
		cfg.PingInterval = 100 * time.Millisecond
		cfg.PongTimeout = 300 * time.Millisecond
		// 8 MiB echoed, never read; framed before the handshake, as above.
		upload := frameBytes(true, frame.OpBinary, 0, bytes.Repeat([]byte("stalled "), 1<<20), true)
		h := newEcho()
		_, addr := startServer(t, h, cfg, nil)
		nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		nc.(*net.TCPConn).SetReadBuffer(16 << 10)
		_, resp := handshakeRaw(t, nc, addr)
		if resp.StatusCode != 101 {
			t.Fatalf("handshake status %d", resp.StatusCode)
		}
		if _, err := nc.Write(upload); err != nil {
			t.Fatalf("upload: %v", err)
		}
		r := h.waitClose(t)
		if !errors.Is(r.err, ErrPeerTimeout) || r.code != frame.StatusAbnormalClosure {
			t.Fatalf("OnClose = %d %v", r.code, r.err)
		}
	})
}
