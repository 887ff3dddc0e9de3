package engine

import (
	"io"
	"net"
	"strconv"
	"testing"
	"time"
)

// BenchmarkChop is the conformance suite's cases 9.5/9.6 (and bench's
// `wsbench chop`) in-process: one 1 MiB binary message whose bytes the client
// writes in chops (TCP_NODELAY, one write per chop, so each chop is its own
// segment), then the server's echo read back whole. An op is one message;
// µs/chop is what each small read costs the server end to end. The gap
// variants spin between chops, as a conformance client does: every chop then
// finds the loop parked, so the figure is the price of a park and a wake-up
// per read (issue 15: pool mode paid about 0.5 ms per chop).
func BenchmarkChop(b *testing.B) {
	const size = 1 << 20
	for _, m := range modes {
		if m.cfg.GoroutinePerConn {
			continue
		}
		for _, tc := range []struct {
			chop int
			gap  time.Duration
		}{{64, 0}, {2048, 0}, {64, 20 * time.Microsecond}, {2048, 20 * time.Microsecond}} {
			name := m.name + "/" + strconv.Itoa(tc.chop)
			if tc.gap > 0 {
				name += "/gap" + tc.gap.String()
			}
			b.Run(name, func(b *testing.B) {
				c := newChopClient(b, m.cfg, size)
				c.send(b, tc.chop, tc.gap) // warm: buffers grown, pools filled
				b.ReportAllocs()
				b.SetBytes(size)
				b.ResetTimer()
				for range b.N {
					c.send(b, tc.chop, tc.gap)
				}
				chops := float64((size + tc.chop - 1) / tc.chop)
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/chops, "µs/chop")
			})
		}
	}
}

// chopClient sends one prepared masked frame in chops and reads its echo.
type chopClient struct {
	*bnClient
	nc *net.TCPConn
}

func newChopClient(tb testing.TB, cfg Config, size int) *chopClient {
	tb.Helper()
	c := dialBNClient(tb, cfg, size)
	tc, ok := c.nc.(*net.TCPConn)
	if !ok {
		tb.Fatalf("not TCP: %T", c.nc)
	}
	tc.SetNoDelay(true) // Go's default too; said here because the benchmark needs it
	return &chopClient{bnClient: c, nc: tc}
}

func (c *chopClient) send(tb testing.TB, chop int, gap time.Duration) {
	for off := 0; off < len(c.out); off += chop {
		if gap > 0 {
			for t := time.Now(); time.Since(t) < gap; {
			}
		}
		if _, err := c.nc.Write(c.out[off:min(off+chop, len(c.out))]); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := io.ReadFull(c.br, c.in); err != nil {
		tb.Fatal(err)
	}
	hn := len(c.in) - len(c.want)
	if c.in[0] != 0x82 || string(c.in[hn:hn+64]) != string(c.want[:64]) {
		tb.Fatalf("echo starts % x", c.in[:16])
	}
}
