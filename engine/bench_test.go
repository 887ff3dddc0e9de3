package engine

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
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

// BenchmarkEchoDeflate is BenchmarkEcho with permessage-deflate (RFC 7692) on
// JSON-like text, in pool mode: the server inflates each message (charged to
// MaxTotalInbound as it grows), hands it to OnMessage and compresses the echo
// (under DefaultThreshold, 128 bytes, the 64-byte echo goes plain). The client
// sends one frame compressed once from an empty history, valid with context
// takeover too (§7.2.3.2: it refers back to nothing), and reads the echo
// without inflating it, so the figures are the server's.
func BenchmarkEchoDeflate(b *testing.B) {
	for _, tk := range []struct {
		name string
		opts deflate.Options
	}{
		{"takeover", deflate.Options{}},
		{"no-takeover", deflate.Options{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
	} {
		for _, size := range []int{64, 16 << 10, 1 << 20} {
			b.Run("pool/"+tk.name+"/"+strconv.Itoa(size), func(b *testing.B) {
				opts := tk.opts
				c := newDeflateBNClient(b, Config{Compression: &opts}, size)
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

// deflateBNClient is a bnClient for compressed echoes, whose size it does not
// know in advance.
type deflateBNClient struct {
	nc  net.Conn
	br  *bufio.Reader
	out []byte // the masked compressed frame, sent as is every time
	in  []byte // the last echo's payload
	hb  [frame.MaxHeaderSize]byte
}

func newDeflateBNClient(tb testing.TB, cfg Config, size int) *deflateBNClient {
	tb.Helper()
	cfg.PingInterval = -1
	// A busy machine makes the loops' stall warning go off; its lines would
	// cut the benchmark's result lines.
	cfg.Logger = slog.New(slog.DiscardHandler)
	_, addr := startServer(tb, bnEcho{}, cfg, nil)
	rc := dialRaw(tb, addr, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
	rc.nc.SetDeadline(time.Time{})
	payload := jsonish(size)
	c := &deflateBNClient{
		nc:  rc.nc,
		br:  rc.br,
		out: frameBytes(true, frame.OpBinary, frame.Rsv1, mustCompress(tb, payload), true),
		in:  make([]byte, 0, size+1024),
	}
	// The first echo is compressed from an empty history (or plain under
	// the threshold): check it inflates to what was sent.
	rsv := c.roundTrip(tb)
	got := c.in
	if rsv == frame.Rsv1 {
		var err error
		if got, err = deflate.Decompress(nil, c.in, int64(size)); err != nil {
			tb.Fatal(err)
		}
	}
	mustEqual(tb, got, payload)
	return c
}

// roundTrip sends the frame and reads the echo's frames into c.in, returning
// the first frame's RSV bits.
func (c *deflateBNClient) roundTrip(tb testing.TB) (rsv uint8) {
	if _, err := c.nc.Write(c.out); err != nil {
		tb.Fatal(err)
	}
	c.in = c.in[:0]
	for first := true; ; first = false {
		var h frame.Header
		var err error
		for n, need := 0, 2; err == frame.ErrShortHeader || n == 0; {
			if _, err = io.ReadFull(c.br, c.hb[n:need]); err != nil {
				tb.Fatal(err)
			}
			n = need
			h, need, err = frame.ParseHeader(c.hb[:n])
		}
		if err != nil || !h.Opcode.IsData() {
			tb.Fatalf("echo header %+v: %v", h, err)
		}
		if first {
			rsv = h.Rsv
		}
		start := len(c.in)
		c.in = append(c.in, make([]byte, h.Length)...)
		if _, err := io.ReadFull(c.br, c.in[start:]); err != nil {
			tb.Fatal(err)
		}
		if h.Fin {
			return rsv
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
