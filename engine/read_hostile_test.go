package engine

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// Hostile input on real sockets, server and client side, in every mode: a
// length that overflows, headers that declare more than is sent, frames after
// the close frame, fragment floods (issue 12).

// rawServer accepts TCP connections, answers each handshake with a 101 and
// hands the connection to the test, which then writes server frames by hand.
func rawServer(t testing.TB) (url string, conns <-chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan net.Conn, 4)
	var mu sync.Mutex
	var all []net.Conn
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			all = append(all, nc)
			mu.Unlock()
			go func() {
				req, err := http.ReadRequest(bufio.NewReader(nc))
				if err != nil {
					nc.Close()
					return
				}
				io.WriteString(nc, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
					"Sec-WebSocket-Accept: "+upgrade.AcceptKey(req.Header.Get("Sec-WebSocket-Key"))+"\r\n\r\n")
				ch <- nc
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, nc := range all {
			nc.Close()
		}
		mu.Unlock()
	})
	return "ws://" + ln.Addr().String() + "/", ch
}

// srvFrame encodes one unmasked server frame.
func srvFrame(fin bool, op frame.Opcode, p []byte) []byte {
	return frameBytes(fin, op, 0, p, false)
}

// readClose reads client frames from nc until a close frame and returns its code.
func readClose(t testing.TB, nc net.Conn) frame.StatusCode {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(cliWait))
	rc := &rawClient{t: t, nc: nc, br: bufio.NewReader(nc)}
	for {
		h, p, err := rc.readFrame()
		if err != nil {
			t.Fatalf("waiting for the client's close frame: %v", err)
		}
		if h.Opcode == frame.OpClose {
			if len(p) < 2 {
				return frame.StatusNoStatusRcvd
			}
			// A client's frames are masked: unmask the code.
			frame.Mask(h.Mask, 0, p)
			return frame.StatusCode(binary.BigEndian.Uint16(p))
		}
	}
}

// hugeHeader is a header declaring 2^63-1 payload bytes (the largest legal
// 64-bit length, RFC 6455 §5.2), masked or not.
func hugeHeader(masked bool) []byte {
	b := []byte{0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	if masked {
		b[1] |= 0x80
		b = append(b, 1, 2, 3, 4)
	}
	return b
}

// TestSplitHugeHeader: a header declaring 2^63-1 bytes, cut after its first two
// bytes, gets 1009 like the same header in one piece, and the process lives on
// (it used to overflow int64 and panic on a slice bound).
func TestSplitHugeHeader(t *testing.T) {
	t.Parallel()
	t.Run("server", func(t *testing.T) {
		forModes(t, func(t *testing.T, cfg Config) {
			h := newEcho()
			_, addr := startServer(t, h, cfg, nil)
			for _, split := range []int{0, 1, 2, 9, 13} {
				rc := dialRaw(t, addr)
				b := hugeHeader(true)
				if split > 0 {
					rc.write(b[:split])
					time.Sleep(20 * time.Millisecond) // two TCP segments
					b = b[split:]
				}
				rc.write(b)
				rc.expectClose(frame.StatusMessageTooBig)
				rc.expectEOF()
				if r := h.waitClose(t); !errors.Is(r.err, ErrFrameTooBig) {
					t.Fatalf("split %d: OnClose err %v", split, r.err)
				}
			}
			// Still serving.
			rc := dialRaw(t, addr)
			rc.send(true, frame.OpText, []byte("alive"))
			if _, p := rc.readMessage(); string(p) != "alive" {
				t.Fatalf("echo %q", p)
			}
		})
	})
	t.Run("client", func(t *testing.T) {
		forModes(t, func(t *testing.T, cfg Config) {
			url, conns := rawServer(t)
			for _, split := range []int{0, 2, 9} {
				h := newCliPeer(false)
				cliDial(t, cliClient(t, h, cfg), url, nil)
				nc := cliRecv(t, conns, "raw server conn")
				b := hugeHeader(false)
				if split > 0 {
					nc.Write(b[:split])
					time.Sleep(20 * time.Millisecond)
					b = b[split:]
				}
				nc.Write(b)
				if code := readClose(t, nc); code != frame.StatusMessageTooBig {
					t.Fatalf("split %d: client closed with %d", split, code)
				}
				nc.Close()
				if r := cliRecv(t, h.closed, "OnClose"); !errors.Is(r.err, ErrFrameTooBig) {
					t.Fatalf("split %d: OnClose err %v", split, r.err)
				}
			}
		})
	})
}

// heapNow is the live heap after a full collection.
func heapNow() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestPartialFrameMemory: headers that declare 16 MiB frames followed by 100
// bytes cost the server about what was sent, not what was declared (a partial
// frame's buffer used to be allocated at the declared size: 300 such
// connections held 4.8 GB). Not parallel: it measures the process's heap.
func TestPartialFrameMemory(t *testing.T) {
	const conns, sent = 300, 100
	const bound = 32 << 20
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			cfg := m.cfg
			cfg.PingInterval = -1
			s, addr := startServer(t, NopHandler{}, cfg, nil)
			hdr := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true,
				Mask: [4]byte{1, 2, 3, 4}, Length: 16 << 20})
			msg := append(hdr, make([]byte, sent)...)
			// Dial first, then measure: the clients' and the server's idle
			// connections are not what is being measured.
			rcs := make([]*rawClient, conns)
			for i := range rcs {
				rcs[i] = dialRaw(t, addr)
			}
			before := s.Stats().BytesIn
			base := heapNow()
			for _, rc := range rcs {
				rc.write(msg)
			}
			want := before + uint64(conns*len(msg))
			waitFor(t, func() bool { return s.Stats().BytesIn >= want })
			grew := int64(heapNow()) - int64(base)
			t.Logf("%d connections with a 16 MiB frame in flight (%d bytes each): heap +%d KiB", conns, sent, grew>>10)
			if grew > bound {
				t.Fatalf("heap grew by %d MiB for %d partial frames of %d bytes (bound %d MiB)", grew>>20, conns, sent, bound>>20)
			}
			for _, rc := range rcs {
				rc.nc.Close()
			}
		})
	}
}

// TestNothingAfterClose: once the peer's close frame is in, later frames are
// not delivered and later close frames do not restart the close timeout
// (RFC 6455 §5.5.1). A client waits for the server to end TCP (§7.1.1), so that
// is where frames can follow the close frame.
func TestNothingAfterClose(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.CloseTimeout = 300 * time.Millisecond
		cfg.TimerResolution = 20 * time.Millisecond
		url, conns := rawServer(t)
		h := newCliPeer(false)
		cliDial(t, cliClient(t, h, cfg), url, nil)
		nc := cliRecv(t, conns, "raw server conn")
		var b []byte
		b = append(b, srvFrame(true, frame.OpClose, []byte{0x03, 0xe8})...)
		b = append(b, srvFrame(true, frame.OpText, []byte("after close"))...)
		b = append(b, srvFrame(true, frame.OpPing, []byte("ping after close"))...)
		nc.Write(b)
		if code := readClose(t, nc); code != frame.StatusNormalClosure {
			t.Fatalf("close echo %d", code)
		}
		// More close frames, every 50 ms for 10 s: each used to re-arm the
		// close timeout, so the client never hung up.
		start := time.Now()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk := time.NewTicker(50 * time.Millisecond)
			defer tk.Stop()
			for time.Since(start) < 10*time.Second {
				select {
				case <-stop:
					return
				case <-tk.C:
				}
				if _, err := nc.Write(srvFrame(true, frame.OpClose, []byte{0x03, 0xe8})); err != nil {
					return
				}
			}
		}()
		r := cliRecv(t, h.closed, "OnClose")
		took := time.Since(start)
		close(stop)
		wg.Wait()
		if took > 5*time.Second {
			t.Fatalf("the client hung up %v after the close frame (close timeout 300ms)", took)
		}
		if r.code != frame.StatusNormalClosure {
			t.Fatalf("OnClose code %d", r.code)
		}
		select {
		case m := <-h.msgs:
			t.Fatalf("%v %q delivered after the close frame", m.op, m.data)
		case p := <-h.pings:
			t.Fatalf("ping %q delivered after the close frame", p)
		default:
		}
	})
}

// fragments encodes p as a message of frames of size bytes each.
func fragments(op frame.Opcode, p []byte, size int, masked bool) []byte {
	var out []byte
	for i := 0; i < len(p); i += size {
		fop := frame.OpContinuation
		if i == 0 {
			fop = op
		}
		out = append(out, frameBytes(i+size >= len(p), fop, 0, p[i:min(i+size, len(p))], masked)...)
	}
	return out
}

// TestSmallFragmentsDefaults: with the default limits a 4 MiB message in
// 64-byte or 256-byte fragments arrives (Autobahn 9.3.1, 9.3.2, 9.4.1, 9.4.2;
// the old default cap of 16384 fragments failed them with 1008).
func TestSmallFragmentsDefaults(t *testing.T) {
	t.Parallel()
	msg := bytes.Repeat([]byte("0123456789abcdef"), (4<<20)/16)
	for _, size := range []int{64, 256} {
		t.Run(fmt.Sprintf("server/%d", size), func(t *testing.T) {
			forModes(t, func(t *testing.T, cfg Config) {
				h := newCliPeer(false)
				_, addr := startServer(t, h, cfg, nil)
				rc := dialRaw(t, addr)
				go rc.nc.Write(fragments(frame.OpBinary, msg, size, true))
				select {
				case m := <-h.msgs:
					mustEqual(t, m.data, msg)
				case r := <-h.closed:
					t.Fatalf("%d-byte fragments: closed %d %v", size, r.code, r.err)
				case <-time.After(cliWait):
					t.Fatal("no message")
				}
			})
		})
		t.Run(fmt.Sprintf("client/%d", size), func(t *testing.T) {
			forModes(t, func(t *testing.T, cfg Config) {
				url, conns := rawServer(t)
				h := newCliPeer(false)
				cliDial(t, cliClient(t, h, cfg), url, nil)
				nc := cliRecv(t, conns, "raw server conn")
				go nc.Write(fragments(frame.OpText, msg, size, false))
				select {
				case m := <-h.msgs:
					mustEqual(t, m.data, msg)
				case r := <-h.closed:
					t.Fatalf("%d-byte fragments: closed %d %v", size, r.code, r.err)
				case <-time.After(cliWait):
					t.Fatal("no message")
				}
			})
		})
	}
}

// fragHandler records the frame count at OnClose.
type fragHandler struct {
	NopHandler
	closed chan closeRecord
	frames atomic.Uint64
}

func (h *fragHandler) OnClose(c *Conn, code frame.StatusCode, reason string, err error) {
	h.frames.Store(c.Stats().FramesIn)
	h.closed <- closeRecord{code, reason, err}
}

// TestEmptyFragmentFlood: a message of a million empty fragments is failed
// (1008) long before the millionth, by the default fragment cap, and with the
// count cap off (MaxFragments < 0) still by nothing but the size limit, which
// empty frames never reach: so that case only checks the cap can be turned off.
func TestEmptyFragmentFlood(t *testing.T) {
	t.Parallel()
	const flood = 1_000_000
	one := frameBytes(false, frame.OpContinuation, 0, nil, true)
	wire := append(frameBytes(false, frame.OpBinary, 0, nil, true), bytes.Repeat(one, flood)...)
	forModes(t, func(t *testing.T, cfg Config) {
		h := &fragHandler{closed: make(chan closeRecord, 1)}
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		start := time.Now()
		go rc.nc.Write(wire) // fails once the server hangs up
		rc.expectClose(frame.StatusPolicyViolation)
		took := time.Since(start)
		rc.nc.Close()
		r := cliRecv(t, h.closed, "OnClose")
		if !errors.Is(r.err, ErrTooManyFragments) {
			t.Fatalf("OnClose err %v", r.err)
		}
		n := h.frames.Load()
		t.Logf("closed after %d of %d empty fragments, %v", n, flood, took)
		if n > flood/4 {
			t.Fatalf("%d frames read before the close", n)
		}
		if took > 5*time.Second {
			t.Fatalf("close after %v", took)
		}
	})
}

// TestEmptyFragmentFloodClient: the same flood from a server ends a client's
// connection with 1008 as early.
func TestEmptyFragmentFloodClient(t *testing.T) {
	t.Parallel()
	const flood = 1_000_000
	one := srvFrame(false, frame.OpContinuation, nil)
	wire := append(srvFrame(false, frame.OpBinary, nil), bytes.Repeat(one, flood)...)
	forModes(t, func(t *testing.T, cfg Config) {
		url, conns := rawServer(t)
		h := &fragHandler{closed: make(chan closeRecord, 1)}
		cliDial(t, cliClient(t, h, cfg), url, nil)
		nc := cliRecv(t, conns, "raw server conn")
		start := time.Now()
		go nc.Write(wire)
		if code := readClose(t, nc); code != frame.StatusPolicyViolation {
			t.Fatalf("client closed with %d", code)
		}
		took := time.Since(start)
		nc.Close()
		r := cliRecv(t, h.closed, "OnClose")
		if !errors.Is(r.err, ErrTooManyFragments) {
			t.Fatalf("OnClose err %v", r.err)
		}
		n := h.frames.Load()
		t.Logf("closed after %d of %d empty fragments, %v", n, flood, took)
		if n > flood/4 || took > 5*time.Second {
			t.Fatalf("%d frames read, %v before the close", n, took)
		}
	})
}

// TestFragmentCapOff: MaxFragments < 0 turns the count cap off: a message of
// 40000 empty fragments (over any count cap of the old kind) then arrives.
func TestFragmentCapOff(t *testing.T) {
	t.Parallel()
	const n = 40000
	one := frameBytes(false, frame.OpContinuation, 0, nil, true)
	wire := append(frameBytes(false, frame.OpText, 0, nil, true), bytes.Repeat(one, n)...)
	wire = append(wire, frameBytes(true, frame.OpContinuation, 0, []byte("end"), true)...)
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.MaxFragments = -1
		cfg.MaxMessageSize = 1 << 10 // the count cap derived from it would be 16384
		h := newCliPeer(false)
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		go rc.nc.Write(wire)
		select {
		case m := <-h.msgs:
			if string(m.data) != "end" {
				t.Fatalf("message %q", m.data)
			}
		case r := <-h.closed:
			t.Fatalf("closed %d %v", r.code, r.err)
		case <-time.After(cliWait):
			t.Fatal("no message")
		}
	})
}
