package engine

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// Echo round trips over a real loopback socket, client in the same process. The
// client allocates nothing per round trip (its frame is masked once, its read buffer
// preallocated), so allocs/op is the server's: reading, parsing, unmasking, the
// handler call and the write.

// bnEcho echoes and nothing else.
type bnEcho struct{ NopHandler }

func (bnEcho) OnMessage(c *Conn, op frame.Opcode, p []byte) { c.WriteMessage(op, p) }

// bnClient is a connected client with a prepared frame and a buffer for the echo.
type bnClient struct {
	nc   net.Conn
	br   *bufio.Reader
	out  []byte // the masked frame, sent as is every time
	in   []byte // header and payload of the echo
	want []byte
}

func newBNClient(tb testing.TB, cfg Config, size int) *bnClient {
	tb.Helper()
	c := dialBNClient(tb, cfg, size)
	c.roundTrip(tb)
	hdr := len(c.in) - size
	h, n, err := frame.ParseHeader(c.in)
	if err != nil || n != hdr || h.Opcode != frame.OpBinary || !h.Fin || h.Length != int64(size) {
		tb.Fatalf("echo header %+v (%d bytes) %v", h, n, err)
	}
	mustEqual(tb, c.in[n:], c.want)
	return c
}

// dialBNClient starts an echo server with cfg (no keepalive) and connects a
// bnClient to it, its frame of size bytes prepared.
func dialBNClient(tb testing.TB, cfg Config, size int) *bnClient {
	tb.Helper()
	cfg.PingInterval = -1
	_, addr := startServer(tb, bnEcho{}, cfg, nil)
	rc := dialRaw(tb, addr)
	rc.nc.SetDeadline(time.Time{})
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i)
	}
	hdr := frame.HeaderSize(frame.Header{Fin: true, Opcode: frame.OpBinary, Length: int64(size)})
	c := &bnClient{
		nc:   rc.nc,
		br:   rc.br,
		out:  frameBytes(true, frame.OpBinary, 0, payload, true),
		in:   make([]byte, hdr+size),
		want: payload,
	}
	return c
}

func (c *bnClient) roundTrip(tb testing.TB) {
	if _, err := c.nc.Write(c.out); err != nil {
		tb.Fatal(err)
	}
	if _, err := io.ReadFull(c.br, c.in); err != nil {
		tb.Fatal(err)
	}
}

func BenchmarkEcho(b *testing.B) {
	for _, m := range modes {
		if m.cfg.GoroutinePerConn {
			continue
		}
		for _, size := range []int{64, 1 << 10, 16 << 10} {
			b.Run(m.name+"/"+strconv.Itoa(size), func(b *testing.B) {
				c := newBNClient(b, m.cfg, size)
				b.ReportAllocs()
				b.SetBytes(int64(size))
				b.ResetTimer()
				for range b.N {
					c.roundTrip(b)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rt/s")
			})
		}
	}
}

// TestEchoAllocs: a steady-state echo round trip allocates nothing, client and
// server together. Not parallel: AllocsPerRun counts every goroutine's allocations.
func TestEchoAllocs(t *testing.T) {
	for _, m := range modes {
		if m.cfg.GoroutinePerConn {
			continue
		}
		for _, size := range []int{64, 1 << 10} {
			t.Run(m.name+"/"+strconv.Itoa(size), func(t *testing.T) {
				c := newBNClient(t, m.cfg, size)
				for range 100 {
					c.roundTrip(t) // warm the pools
				}
				if n := testing.AllocsPerRun(500, func() { c.roundTrip(t) }); n != 0 {
					t.Errorf("%v allocations per echo round trip, want 0", n)
				}
			})
		}
	}
}
