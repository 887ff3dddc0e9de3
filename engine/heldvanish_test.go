//go:build unix

package engine

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// closeCounter echoes every message and counts closes, and when each came
// with which error.
type closeCounter struct {
	countHandler
	mu   sync.Mutex
	errs map[string][]time.Time
}

func (h *closeCounter) OnClose(c *Conn, code frame.StatusCode, reason string, err error) {
	h.mu.Lock()
	if h.errs == nil {
		h.errs = map[string][]time.Time{}
	}
	k := fmt.Sprint(code, " ", err)
	h.errs[k] = append(h.errs[k], time.Now())
	h.mu.Unlock()
	h.countHandler.OnClose(c, code, reason, err)
}

func (h *closeCounter) OnMessage(c *Conn, op frame.Opcode, p []byte) { c.WriteMessage(op, p) }

// TestHeldThenVanish: clients that send and never read, until the server has
// stopped reading them (their output is above WriteHighWater), then close
// with the echoes unread (so their kernel answers with a reset). Keepalive
// and idle timeouts are off: nothing but the hang-up can end them, and every
// one must end. (The interop attack TestAttackNeverReads saw 23 of 200 fds
// still open 10 s after such clients left, on a machine at load 20: each
// connection read the megabyte its peer had left queued before it saw the
// reset. Since a socket error finishes a connection at once
// (TestResetDropsQueuedInput), the 40 here finish within about 10 ms of the
// last peer leaving, against 0.4-1.3 s before; the bound stays loose, for
// loaded machines.)
func TestHeldThenVanish(t *testing.T) {
	t.Parallel()
	const clients = 40
	payload := bytes.Repeat([]byte("h"), 64<<10)
	msg := frameBytes(true, frame.OpBinary, 0, payload, true)
	forLoopModes(t, func(t *testing.T, cfg Config) {
		cfg.PingInterval = -1
		cfg.IdleTimeout = 0
		h := &closeCounter{}
		s, addr := startServer(t, h, cfg, nil)
		var wg sync.WaitGroup
		leave := make(chan struct{})
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
					return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
				}}
				nc, err := d.Dial("tcp", addr)
				if err != nil {
					t.Error(err)
					return
				}
				rc, resp := handshakeRaw(t, nc, addr)
				if resp.StatusCode != 101 {
					t.Errorf("status %d", resp.StatusCode)
					return
				}
				// Write until a write has been blocked for half a second:
				// the server has stopped reading.
				for {
					rc.nc.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
					if _, err := rc.nc.Write(msg); err != nil {
						break
					}
				}
				<-leave
				rc.nc.Close()
			}()
		}
		// Every client is blocked (the server holds them all); they all
		// leave at once.
		for h.opened.Load() < clients {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(time.Second)
		close(leave)
		wg.Wait()
		left := time.Now()
		deadline := left.Add(time.Minute)
		for h.closed.Load() < clients && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("%d connections finished %v after their peers left", h.closed.Load(), time.Since(left))
		h.mu.Lock()
		for k, ts := range h.errs {
			slices.SortFunc(ts, time.Time.Compare)
			t.Logf("%d closes %q, from %v to %v", len(ts), k, ts[0].Sub(left), ts[len(ts)-1].Sub(left))
		}
		h.mu.Unlock()
		if got := h.closed.Load(); got != clients {
			t.Fatalf("%d of %d connections finished a minute after their peers left (%d open)", got, clients, s.NumConns())
		}
	})
}

// resetRecorder counts messages and keeps the close.
type resetRecorder struct {
	NopHandler
	pause bool
	msgs  atomic.Int64
	close chan closeRecord
}

func (h *resetRecorder) OnOpen(c *Conn) {
	if h.pause {
		c.PauseRead()
	}
}

func (h *resetRecorder) OnMessage(*Conn, frame.Opcode, []byte) { h.msgs.Add(1) }

func (h *resetRecorder) OnClose(_ *Conn, code frame.StatusCode, reason string, err error) {
	h.close <- closeRecord{code, reason, err}
}

// TestResetDropsQueuedInput: a peer that resets the connection (RST: here
// SO_LINGER 0, as a kernel does when a socket closes with unread input) is
// gone at once, whatever input it left in the server's socket: RFC 793
// §3.4, a reset flushes the queues, and reading megabytes from a gone peer
// only delays the close (TestHeldThenVanish; the interop attack saw fds
// still open 10 s after 200 such peers left, at load 20). The connection
// ends with 1006 and the socket's error, and nothing queued is delivered;
// also while its reading is paused, where it used to stay open.
func TestResetDropsQueuedInput(t *testing.T) {
	t.Parallel()
	for _, pause := range []bool{false, true} {
		t.Run(fmt.Sprintf("paused=%v", pause), func(t *testing.T) {
			t.Parallel()
			forLoopModes(t, func(t *testing.T, cfg Config) {
				cfg.PingInterval = -1
				h := &resetRecorder{pause: pause, close: make(chan closeRecord, 1)}
				_, addr := startServer(t, h, cfg, nil)
				rc := dialRaw(t, addr)
				msg := frameBytes(true, frame.OpBinary, 0, bytes.Repeat([]byte("r"), 1<<10), true)
				var burst []byte
				for range 64 {
					burst = append(burst, msg...)
				}
				if pause {
					rc.write(burst)
					time.Sleep(100 * time.Millisecond) // in the server's socket, unread
				}
				tc := rc.nc.(*net.TCPConn)
				tc.SetLinger(0)
				if !pause {
					// Input and the reset in one go: the poller reports them
					// together, and the queued input must not be delivered.
					rc.write(burst)
				}
				tc.Close()
				select {
				case r := <-h.close:
					if r.code != frame.StatusAbnormalClosure || !errors.Is(r.err, syscall.ECONNRESET) {
						t.Errorf("OnClose %d %v, want 1006 and ECONNRESET", r.code, r.err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("the reset connection is still open after 10 s")
				}
				if pause {
					if n := h.msgs.Load(); n != 0 {
						t.Errorf("%d messages delivered from a reset connection", n)
					}
				}
			})
		})
	}
}
