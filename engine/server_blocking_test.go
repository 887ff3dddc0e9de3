package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/netconn"
	"github.com/weir-ws/weir/upgrade"
)

// blockingHTTPServer serves fn, gorilla style, from a net/http handler: the
// handler upgrades, adopts the connection onto srv (made without a Handler) and
// runs fn on it; fn's error goes to the returned channel. It returns the ws:// URL.
func blockingHTTPServer(t *testing.T, cfg Config, fn func(c *Conn) error) (string, <-chan error) {
	t.Helper()
	srv, err := NewServer(nil, &cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	u := &upgrade.Upgrader{}
	errs := make(chan error, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, head, res, err := u.Upgrade(w, r)
		if err != nil {
			errs <- err
			return
		}
		errs <- fn(srv.Adopt(nc, head, &res))
	}))
	t.Cleanup(hs.Close)
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/", errs
}

// TestServerReadMessageEcho is an echo written as a ReadMessage/WriteMessage loop
// in a net/http handler, on a server made without a Handler. More messages than
// the queue holds are in flight, so reading pauses and resumes on the way.
func TestServerReadMessageEcho(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		url, errs := blockingHTTPServer(t, cfg, func(c *Conn) error {
			ctx := context.Background()
			for {
				op, p, err := c.ReadMessage(ctx)
				if err != nil {
					return err
				}
				if err := c.WriteMessage(op, p); err != nil {
					return err
				}
			}
		})
		c := cliDial(t, cliClient(t, nil, cfg), url, nil)
		const n = 200
		rng := rand.New(rand.NewPCG(1, 2))
		sent := make([][]byte, n)
		for i := range sent {
			op := frame.OpBinary
			if i%3 == 0 {
				op = frame.OpText
			}
			sent[i] = cliPayload(op, rng.IntN(3000))
			if err := c.WriteMessage(op, sent[i]); err != nil {
				t.Fatal(err)
			}
		}
		for i := range sent {
			op, p, err := c.ReadMessage(cliCtx(t))
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			wantOp := frame.OpBinary
			if i%3 == 0 {
				wantOp = frame.OpText
			}
			if op != wantOp || !bytes.Equal(p, sent[i]) {
				t.Fatalf("message %d: %v of %d bytes, want %v of %d", i, op, len(p), wantOp, len(sent[i]))
			}
		}
		c.Close(frame.StatusNormalClosure, "done")
		err := cliRecv(t, errs, "handler")
		var ce *CloseError
		if !errors.As(err, &ce) || ce.Code != frame.StatusNormalClosure || ce.Reason != "done" {
			t.Fatalf("server ReadMessage ended with %v, want a 1000 \"done\" *CloseError", err)
		}
	})
}

// TestServerNetConnCopy runs io.Copy over NetConn of a server connection: the
// client's stream comes back whole, and the client's close ends the copy as EOF.
func TestServerNetConnCopy(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		copied := make(chan int64, 1)
		url, errs := blockingHTTPServer(t, cfg, func(c *Conn) error {
			nc := netconn.New(c, frame.OpBinary)
			n, err := io.Copy(nc, nc)
			copied <- n
			return err
		})
		c := cliDial(t, cliClient(t, nil, cfg), url, nil)
		nc := netconn.New(c, frame.OpBinary)
		data := make([]byte, 300<<10)
		rand.NewChaCha8([32]byte{3, 4}).Read(data)
		go func() {
			for p := data; len(p) > 0; {
				k := min(len(p), 7000)
				if _, err := nc.Write(p[:k]); err != nil {
					return
				}
				p = p[k:]
			}
		}()
		got := make([]byte, len(data))
		if _, err := io.ReadFull(nc, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Fatal("the stream came back changed")
		}
		if err := nc.Close(); err != nil {
			t.Fatal(err)
		}
		if err := cliRecv(t, errs, "handler"); err != nil {
			t.Fatalf("server io.Copy: %v, want nil (EOF)", err)
		}
		if n := cliRecv(t, copied, "copied"); n != int64(len(data)) {
			t.Fatalf("server copied %d bytes, want %d", n, len(data))
		}
	})
}

// TestServerHandlerNoQueue checks that a server given a Handler (NopHandler{}
// included) keeps ReadMessage off, while one made with nil serves it on every
// connection, its own listener's too.
func TestServerHandlerNoQueue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		h    Handler
		want error
	}{
		{"NopHandler", NopHandler{}, ErrNoQueue},
		{"handler", newEcho(), ErrNoQueue},
		{"nil", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				s, addr := startServer(t, tc.h, cfg, nil)
				c := cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", nil)
				if err := c.WriteText("hello"); err != nil {
					t.Fatal(err)
				}
				var sc *Conn
				for x := range s.Conns() {
					sc = x // open before the 101 left, so there by now
				}
				if sc == nil {
					t.Fatal("no open server connection")
				}
				ctx, cancel := context.WithCancel(cliCtx(t))
				if tc.want != nil {
					cancel() // a queue would wait: do not
				}
				_, p, err := sc.ReadMessage(ctx)
				cancel()
				if !errors.Is(err, tc.want) {
					t.Fatalf("ReadMessage: %v, want %v", err, tc.want)
				}
				if tc.want == nil && string(p) != "hello" {
					t.Fatalf("ReadMessage = %q", p)
				}
			})
		})
	}
}

// openedHandler hands each opened connection to the test.
type openedHandler struct {
	NopHandler
	opened chan *Conn
}

func newOpenedHandler() *openedHandler { return &openedHandler{opened: make(chan *Conn, 1)} }

func (h *openedHandler) OnOpen(c *Conn) { h.opened <- c }

// isDeadline reports whether err is what net.Conn promises after a deadline.
func isDeadline(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() && errors.Is(err, os.ErrDeadlineExceeded)
}

// TestNetConnDeadlines checks NetConn's deadlines against the net.Conn contract:
// a passed write deadline fails Write with a timeout, a future or cleared one
// does not, SetDeadline sets both, and the read side is unaffected by the write
// deadline (and the other way round).
func TestNetConnDeadlines(t *testing.T) {
	t.Parallel()
	past := time.Now().Add(-time.Second)
	future := time.Now().Add(time.Hour)
	tests := []struct {
		name            string
		set             func(nc net.Conn)
		writeOK, readOK bool
	}{
		{"none", func(net.Conn) {}, true, true},
		{"write deadline passed", func(nc net.Conn) { nc.SetWriteDeadline(past) }, false, true},
		{"write deadline ahead", func(nc net.Conn) { nc.SetWriteDeadline(future) }, true, true},
		{"write deadline cleared", func(nc net.Conn) { nc.SetWriteDeadline(past); nc.SetWriteDeadline(time.Time{}) }, true, true},
		{"read deadline passed", func(nc net.Conn) { nc.SetReadDeadline(past) }, true, false},
		{"deadline passed", func(nc net.Conn) { nc.SetDeadline(past) }, false, false},
		{"deadline ahead", func(nc net.Conn) { nc.SetDeadline(future) }, true, true},
		{"deadline passed, then cleared", func(nc net.Conn) { nc.SetDeadline(past); nc.SetDeadline(time.Time{}) }, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				h := newOpenedHandler()
				_, addr := startServer(t, h, cfg, nil)
				nc := netconn.New(cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", nil), frame.OpBinary)
				sc := cliRecv(t, h.opened, "server OnOpen")
				tc.set(nc)
				if err := sc.WriteBinary([]byte("to client")); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 64)
				n, err := nc.Read(buf)
				if tc.readOK {
					if err != nil || string(buf[:n]) != "to client" {
						t.Fatalf("Read = %q, %v", buf[:n], err)
					}
				} else if n != 0 || !isDeadline(err) {
					t.Fatalf("Read = %d, %v; want a deadline error", n, err)
				}
				n, err = nc.Write([]byte("to server"))
				if tc.writeOK {
					if err != nil || n != len("to server") {
						t.Fatalf("Write = %d, %v", n, err)
					}
				} else if n != 0 || !isDeadline(err) {
					t.Fatalf("Write = %d, %v; want a deadline error", n, err)
				}
			})
		})
	}
}

// TestNetConnDeadlineWakesRead checks that SetDeadline, like SetReadDeadline,
// ends a Read already waiting.
func TestNetConnDeadlineWakesRead(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		_, addr := startServer(t, NopHandler{}, cfg, nil)
		nc := netconn.New(cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", nil), frame.OpBinary)
		done := make(chan error, 1)
		go func() {
			_, err := nc.Read(make([]byte, 8))
			done <- err
		}()
		nc.SetDeadline(time.Now().Add(-time.Second))
		if err := cliRecv(t, done, "Read"); !isDeadline(err) {
			t.Fatalf("Read = %v, want a deadline error", err)
		}
	})
}

// TestServerReadMessageNeverOpened checks ReadMessage on a connection that Adopt
// returns closed, never opened (the server stopped first): no OnClose comes for
// it, yet ReadMessage returns its close status instead of waiting.
func TestServerReadMessageNeverOpened(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		srv, err := NewServer(nil, &cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		srv.Close()
		u := &upgrade.Upgrader{}
		errs := make(chan error, 1)
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			nc, head, res, err := u.Upgrade(w, r)
			if err != nil {
				errs <- err
				return
			}
			_, _, err = srv.Adopt(nc, head, &res).ReadMessage(cliCtx(t))
			errs <- err
		}))
		t.Cleanup(hs.Close)
		c := cliDial(t, cliClient(t, nil, cfg), "ws"+strings.TrimPrefix(hs.URL, "http")+"/", nil)
		var ce *CloseError
		if err := cliRecv(t, errs, "handler"); !errors.As(err, &ce) || ce.Code != frame.StatusGoingAway {
			t.Fatalf("server ReadMessage: %v, want a 1001 *CloseError", err)
		}
		if _, _, err := c.ReadMessage(cliCtx(t)); CloseStatus(err) != frame.StatusGoingAway {
			t.Fatalf("client ReadMessage: %v, want 1001", err)
		}
	})
}

// Config.ReadQueue sizes a nil-handler server's queues: with 2, the connection
// pauses holding exactly 2 messages while the handler does not read, and all of
// them arrive in order once it does.
func TestServerReadQueueConfig(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.ReadQueue = 2
		const n = 10
		url, errs := blockingHTTPServer(t, cfg, func(c *Conn) error {
			deadline := time.Now().Add(cliWait)
			for !c.IsPaused() {
				if time.Now().After(deadline) {
					return errors.New("never paused")
				}
				time.Sleep(time.Millisecond)
			}
			held := c.c.ServerQueue().Len()
			if held != 2 {
				return fmt.Errorf("paused holding %d messages, want 2", held)
			}
			for i := range n {
				_, p, err := c.ReadMessage(context.Background())
				if err != nil {
					return err
				}
				if string(p) != strconv.Itoa(i) {
					return fmt.Errorf("message %d is %q", i, p)
				}
			}
			return c.Close(frame.StatusNormalClosure, "")
		})
		c := cliDial(t, cliClient(t, nil, cfg), url, nil)
		for i := range n {
			if err := c.WriteText(strconv.Itoa(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := cliRecv(t, errs, "the handler's end"); err != nil {
			t.Fatal(err)
		}
	})
}
