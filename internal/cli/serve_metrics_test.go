package cli

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// scrape returns the /metrics document of d.
func scrape(t *testing.T, d *demo) string {
	t.Helper()
	resp, err := http.Get("http://" + d.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d %v", resp.StatusCode, err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("/metrics Content-Type %q", ct)
	}
	return string(b)
}

// rawHandshake sends a request and returns the answer's status.
func rawHandshake(t *testing.T, addr, req string) int {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(nc, req)
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeMetrics: `weir serve -metrics` after a scripted run (echo
// connections and messages, refused handshakes, closes from the peer) serves
// exactly those counts at /metrics.
func TestServeMetrics(t *testing.T) {
	t.Parallel()
	for _, m := range serveModes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			cfg := m.cfg
			cfg.PingInterval = -1 // no keepalive frames in the counts
			d := startTestDemo(t, demoOptions{Config: &cfg, Metrics: true})
			addr := d.Addr().String()

			const conns, msgs = 3, 4
			for i := range conns {
				c := dialDemo(t, d, "/echo", nil)
				for range msgs {
					if err := c.WriteText("ping"); err != nil {
						t.Fatal(err)
					}
					if _, _, err := c.ReadMessage(testCtx(t)); err != nil {
						t.Fatal(err)
					}
				}
				switch i {
				case 0:
					c.Close(frame.StatusNormalClosure, "")
				case 1:
					c.Close(4000, "app")
				}
			}
			// A cross-origin handshake (403) and a plain GET of /chat (426).
			if st := rawHandshake(t, addr, "GET /echo HTTP/1.1\r\nHost: "+addr+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://evil.example\r\n\r\n"); st != 403 {
				t.Fatalf("cross-origin handshake: %d, want 403", st)
			}
			if st := rawHandshake(t, addr, "GET /chat HTTP/1.1\r\nHost: "+addr+"\r\n\r\n"); st != 426 {
				t.Fatalf("plain GET /chat: %d, want 426", st)
			}

			wants := []string{
				"weir_connections 1",
				"weir_connections_opened_total 3",
				"weir_connections_closed_total 2",
				"weir_handshakes_accepted_total 3",
				`weir_handshakes_refused_total{status="403"} 1`,
				`weir_handshakes_refused_total{status="426"} 1`,
				`weir_handshakes_refused_total{status="400"} 0`,
				"weir_handshakes_timed_out_total 0",
				"weir_messages_received_total 12",
				"weir_messages_sent_total 12",
				"weir_frames_received_total 14", // 12 messages, 2 closes
				"weir_frames_sent_total 14",     // 12 echoes, 2 close answers
				`weir_closes_total{by="peer",code="1000"} 1`,
				`weir_closes_total{by="peer",code="application"} 1`,
				`weir_closes_total{by="local",code="1000"} 0`,
				`weir_writes_refused_total{policy="error"} 0`,
				"weir_buffered_bytes 0",
				"weir_buffered_inbound_bytes 0",
				"weir_ping_rtt_seconds_count 0",
			}
			// The counters settle a little after the clients see their
			// answers (a refused handshake's connection is counted until the
			// server has closed it, after its answer and a short linger; the
			// last echo is counted once written): scrape until every figure
			// is there, for at most 10 s, then report what is not.
			var doc string
			var missing []string
			var closes int
			deadline := time.Now().Add(10 * time.Second)
			for {
				doc = scrape(t, d)
				missing = missing[:0]
				for _, want := range wants {
					if !strings.Contains(doc, "\n"+want+"\n") {
						missing = append(missing, want)
					}
				}
				closes = 0
				for _, line := range strings.Split(doc, "\n") {
					if strings.HasPrefix(line, "weir_closes_total{") && !strings.HasSuffix(line, " 0") {
						closes++
					}
				}
				if len(missing) == 0 && closes == 2 || time.Now().After(deadline) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			for _, want := range missing {
				t.Errorf("/metrics lacks %q", want)
			}
			if closes != 2 || t.Failed() {
				t.Fatalf("%d close series counted, want 2\n%s", closes, doc)
			}
		})
	}
}

// Without -metrics there is no /metrics.
func TestServeNoMetrics(t *testing.T) {
	t.Parallel()
	d := startTestDemo(t, demoOptions{})
	resp, err := http.Get("http://" + d.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("/metrics without -metrics: %d, want 404", resp.StatusCode)
	}
}
