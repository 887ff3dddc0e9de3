package engine

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// TestTimersNeverEarly: a deadline fires at its time or later, never before, where
// it starts within a tick: handshake timeouts measured from before the dial, idle
// timeouts from before the last message was sent. Connections are staggered over
// a tick so that some start late in one.
func TestTimersNeverEarly(t *testing.T) {
	t.Parallel()
	const (
		res     = 100 * time.Millisecond
		timeout = 250 * time.Millisecond
		conns   = 6
		stagger = 37 * time.Millisecond
	)
	cases := []struct {
		name string
		cfg  func(*Config)
		// start opens a connection and returns when its deadline began (at the
		// latest) and a function that returns once the server has ended it.
		start func(t *testing.T, addr string) (time.Time, func() error)
	}{
		{"handshake", func(c *Config) { c.HandshakeTimeout = timeout }, func(t *testing.T, addr string) (time.Time, func() error) {
			began := time.Now()
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return began, func() error { return nil }
			}
			t.Cleanup(func() { nc.Close() })
			return began, func() error {
				nc.SetReadDeadline(time.Now().Add(10 * time.Second))
				var b [1]byte
				_, err := nc.Read(b[:])
				return err
			}
		}},
		{"idle", func(c *Config) { c.IdleTimeout = timeout; c.PingInterval = -1 }, func(t *testing.T, addr string) (time.Time, func() error) {
			rc := dialRaw(t, addr)
			began := time.Now()
			rc.send(true, frame.OpText, []byte("last input"))
			return began, func() error {
				rc.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
				for {
					h, _, err := rc.readFrame()
					if err != nil || h.Opcode == frame.OpClose {
						return err
					}
				}
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				cfg.TimerResolution = res
				tc.cfg(&cfg)
				_, addr := startServer(t, newEcho(), cfg, nil)
				var wg sync.WaitGroup
				for i := range conns {
					wg.Add(1)
					go func() {
						defer wg.Done()
						time.Sleep(time.Duration(i) * stagger)
						began, ended := tc.start(t, addr)
						ended()
						if d := time.Since(began); d < timeout {
							t.Errorf("connection %d ended %v after its deadline began, before the %v timeout", i, d, timeout)
						}
					}()
				}
				wg.Wait()
			})
		})
	}
}
