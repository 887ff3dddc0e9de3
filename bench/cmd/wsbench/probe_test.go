package main

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

// rawEcho serves a goroutine-per-connection TCP echo that holds every chunk
// for delay before writing it back.
func rawEcho(t *testing.T, delay time.Duration) string {
	t.Helper()
	return serveTCP(t, func(c net.Conn) {
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			time.Sleep(delay)
			if _, err := c.Write(buf[:n]); err != nil {
				return
			}
		}
	})
}

type echoHandler struct{ engine.NopHandler }

func (echoHandler) OnMessage(c *engine.Conn, op frame.Opcode, p []byte) { c.WriteMessage(op, p) }

// wsEcho serves weir's echo, as bench/servers/weir does.
func wsEcho(t *testing.T) string {
	t.Helper()
	srv, err := engine.NewServer(echoHandler{}, &engine.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.Addr().String()
}

// TestProbe: the probe's messages reach the server and come back whole (the
// frames are valid for a server that checks them: weir fails a bad one with
// 1002 and the probe would count an error), in every length encoding (RFC 6455
// §5.2: 7-bit, 16-bit, 64-bit), and its round trips are recorded after mark only.
func TestProbe(t *testing.T) {
	t.Parallel()
	ws, raw := wsEcho(t), rawEcho(t, 0)
	for _, tc := range []struct {
		name string
		addr string
		raw  bool
		size int
	}{
		{"ws 64 B", ws, false, 64},
		{"ws 16 KiB", ws, false, 16384},
		{"ws 70000 B", ws, false, 70000},
		{"raw 64 B", raw, true, 64},
		{"raw 16 KiB", raw, true, 16384},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := startProbe(tc.addr, tc.raw, 2, 200, tc.size)
			if err != nil {
				t.Fatal(err)
			}
			defer p.close()
			time.Sleep(50 * time.Millisecond)
			if r := p.result(); r.N != 0 {
				t.Fatalf("%d samples before mark", r.N)
			}
			p.mark()
			deadline := time.Now().Add(20 * time.Second)
			for p.result().N < 10 && p.result().Errors == 0 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			r := p.result()
			if r.Errors != 0 || r.N < 10 {
				t.Fatalf("%+v, want 10 samples and no errors", r)
			}
			if r.P50us <= 0 || r.P99us < r.P50us || r.MaxUs < r.P99us {
				t.Fatalf("quantiles out of order: %+v", r)
			}
		})
	}
}

// TestProbeCountsLateEchoes: the probe is an open loop (a server that answers
// nothing still gets every message on schedule), and a message whose echo is
// not back when the figures are taken counts as late as it is then: a server
// that never answers has a p50 of about half the window, not no samples (a
// closed loop would have sent one message; a probe that kept only the echoes
// back would report nothing, or only the fast ones).
func TestProbeCountsLateEchoes(t *testing.T) {
	t.Parallel()
	addr := serveTCP(t, func(c net.Conn) { io.Copy(io.Discard, c) }) // reads, never answers
	p, err := startProbe(addr, true, 1, 100, 64)                     // a message due every 10 ms
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	p.mark()
	time.Sleep(400 * time.Millisecond)
	r := p.result()
	if r.Errors != 0 || r.N != 0 || r.Out < 20 {
		t.Fatalf("%+v: want no echoes and at least 20 messages out", r)
	}
	if r.MaxUs < 300e3 || r.P50us < 100e3 {
		t.Fatalf("%+v: want max >= 300 ms, p50 >= 100 ms", r)
	}
}

// TestProbeRefused: a server that does not upgrade is an error at start, not a
// probe that silently records nothing.
func TestProbeRefused(t *testing.T) {
	t.Parallel()
	addr := serveTCP(t, func(c net.Conn) {
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
	})
	if p, err := startProbe(addr, false, 1, 10, 64); err == nil {
		p.close()
		t.Fatal("no error")
	} else if !strings.Contains(err.Error(), "400") {
		t.Fatalf("error %v, want the status", err)
	}
}

// TestProbeTable: the report gets the probe's table, with the paired p99
// ratios, only when the run had a probe.
func TestProbeTable(t *testing.T) {
	t.Parallel()
	servers := []server{{name: "weir"}, {name: "rawtcp"}}
	var res ratioOut
	for round, p99 := range []float64{100, 300, 200} {
		res.Cells = append(res.Cells,
			ratioCell{Server: "weir", Round: round, Size: 64, Msgs: 10, Seconds: 1, CPUus: 1,
				Probe: &probeResult{N: 50, P50us: 10, P99us: p99, MaxUs: 400}},
			ratioCell{Server: "rawtcp", Round: round, Size: 64, Msgs: 10, Seconds: 1, CPUus: 1,
				Probe: &probeResult{N: 50, P50us: 10, P99us: 200, MaxUs: 400}})
	}
	out := ratioReport(res, []int{64}, servers, []string{"rawtcp"})
	if !strings.Contains(out, "Latency probe") || !strings.Contains(out, "| weir | 10 [10-10] | 200 [100-300] |") ||
		!strings.Contains(out, "| 1 [0.5-1.5] |") {
		t.Fatalf("report:\n%s", out)
	}
	for i := range res.Cells {
		res.Cells[i].Probe = nil
	}
	if out := ratioReport(res, []int{64}, servers, []string{"rawtcp"}); strings.Contains(out, "Latency probe") {
		t.Fatalf("a probe table without a probe:\n%s", out)
	}
}

// serveTCP listens on loopback until the test ends and runs serve on each
// accepted connection, closing it afterwards; it returns the address.
func serveTCP(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { serve(c); c.Close() }()
		}
	}()
	return ln.Addr().String()
}
