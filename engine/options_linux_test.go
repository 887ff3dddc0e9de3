package engine

import (
	"net"
	"net/http/httptest"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TCP_NODELAY on every socket the engine runs, read back from the kernel: frames
// are written whole (one writev of header and payload), so Nagle's algorithm
// would only hold small frames back behind delayed ACKs.

// sockNoDelay reads TCP_NODELAY from c's socket: the raw fd on the loops, the
// net.Conn's in goroutine mode.
func sockNoDelay(t *testing.T, c *Conn) int {
	t.Helper()
	get := func(fd int) int {
		v, err := unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY)
		if err != nil {
			t.Fatalf("getsockopt TCP_NODELAY: %v", err)
		}
		return v
	}
	if c.c.Goroutine() == nil {
		c.c.WriteSide.Mu.Lock()
		defer c.c.WriteSide.Mu.Unlock()
		if c.c.WriteSide.W.Closed() {
			t.Fatal("the connection is closed")
		}
		return get(c.c.FD.Int())
	}
	sc, ok := c.c.Goroutine().NetConn().(syscall.Conn)
	if !ok {
		t.Fatalf("goroutine-mode conn %T has no fd", c.c.Goroutine().NetConn())
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	v := -1
	if err := rc.Control(func(fd uintptr) { v = get(int(fd)) }); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestTCPNoDelay(t *testing.T) {
	t.Parallel()
	// serve starts a server on h in one of the ways the engine accepts
	// connections and returns the address to dial.
	cases := []struct {
		name  string
		serve func(t *testing.T, h Handler, cfg Config) string
	}{
		{"Listen", func(t *testing.T, h Handler, cfg Config) string {
			_, addr := startServer(t, h, cfg, nil)
			return addr
		}},
		{"Start with a TCP listener", func(t *testing.T, h Handler, cfg Config) string {
			s, err := NewServer(h, &cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Start(ln); err != nil {
				t.Fatal(err)
			}
			return ln.Addr().String()
		}},
		{"ServeHTTP", func(t *testing.T, h Handler, cfg Config) string {
			s, err := NewServer(h, &cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			ts := httptest.NewServer(s)
			t.Cleanup(ts.Close)
			return ts.Listener.Addr().String()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				h := newCliPeer(true)
				addr := tc.serve(t, h, cfg)
				// A raw client, then weir's client (whose dialled socket is checked too).
				dialRaw(t, addr)
				if v := sockNoDelay(t, cliRecv(t, h.opened, "OnOpen")); v == 0 {
					t.Error("server socket (raw client): TCP_NODELAY off")
				}
				c := cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", nil)
				if v := sockNoDelay(t, cliRecv(t, h.opened, "OnOpen")); v == 0 {
					t.Error("server socket (weir client): TCP_NODELAY off")
				}
				if v := sockNoDelay(t, c); v == 0 {
					t.Error("dialled client socket: TCP_NODELAY off")
				}
				cliEchoOnce(t, c) // and the sockets work
			})
		})
	}
}
