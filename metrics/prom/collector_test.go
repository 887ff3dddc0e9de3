package prom

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/metrics"
)

type echo struct{ engine.NopHandler }

func (echo) OnMessage(c *engine.Conn, op frame.Opcode, p []byte) { c.WriteMessage(op, p) }

// run drives a server on real sockets: two echo connections (one closed by the
// client with 1000, one left open), three messages, a PingRTT from the
// client, and a cross-origin handshake (403).
func run(t *testing.T) (*engine.Server, *engine.Client) {
	t.Helper()
	srv, err := engine.NewServer(echo{}, &engine.Config{PingInterval: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr().String()
	cl, err := engine.NewClient(nil, &engine.Config{PingInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, n := range []int{2, 1} {
		c, _, err := cl.Dial(ctx, "ws://"+addr+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		for range n {
			c.WriteText("hi")
			if _, _, err := c.ReadMessage(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if i == 0 {
			if _, err := c.PingRTT(ctx); err != nil {
				t.Fatal(err)
			}
			c.Close(frame.StatusNormalClosure, "")
		}
	}
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(nc, "GET / HTTP/1.1\r\nHost: "+addr+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://evil.example\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil || resp.StatusCode != 403 {
		t.Fatalf("cross-origin handshake: %v %v", resp, err)
	}
	nc.Close() // the refused connection lingers (in Conns) until the peer hangs up; then it is one of Closed
	for deadline := time.Now().Add(10 * time.Second); srv.Metrics().Closed != 2 || srv.NumConns() != 1; {
		if time.Now().After(deadline) {
			t.Fatal("the closed connection was not counted")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return srv, cl
}

const expected = `
# HELP weir_connections WebSocket connections now, handshakes in progress included.
# TYPE weir_connections gauge
weir_connections 1
# HELP weir_connections_closed_total Connections that have ended.
# TYPE weir_connections_closed_total counter
weir_connections_closed_total 2
# HELP weir_handshakes_accepted_total Opening handshakes answered 101 by the server.
# TYPE weir_handshakes_accepted_total counter
weir_handshakes_accepted_total 2
# HELP weir_handshakes_refused_total Opening handshakes answered with an HTTP error, by status (other: not in the table).
# TYPE weir_handshakes_refused_total counter
weir_handshakes_refused_total{status="400"} 0
weir_handshakes_refused_total{status="403"} 1
weir_handshakes_refused_total{status="404"} 0
weir_handshakes_refused_total{status="405"} 0
weir_handshakes_refused_total{status="426"} 0
weir_handshakes_refused_total{status="429"} 0
weir_handshakes_refused_total{status="431"} 0
weir_handshakes_refused_total{status="500"} 0
weir_handshakes_refused_total{status="503"} 0
weir_handshakes_refused_total{status="other"} 0
# HELP weir_messages_received_total Data messages received.
# TYPE weir_messages_received_total counter
weir_messages_received_total 3
# HELP weir_messages_sent_total Data messages sent.
# TYPE weir_messages_sent_total counter
weir_messages_sent_total 3
# HELP weir_writes_refused_total Writes that met the outbound cap, by WriteBufferPolicy: error (refused), drop (dropped), close (connection closed 1008).
# TYPE weir_writes_refused_total counter
weir_writes_refused_total{policy="close"} 0
weir_writes_refused_total{policy="drop"} 0
weir_writes_refused_total{policy="error"} 0
`

var names = []string{
	"weir_connections", "weir_connections_closed_total", "weir_handshakes_accepted_total",
	"weir_handshakes_refused_total", "weir_messages_received_total", "weir_messages_sent_total",
	"weir_writes_refused_total",
}

// The collector reports the server's counts after a run on real sockets, and
// metrics.Handler (what `weir serve -metrics` serves) scrapes to the same.
func TestCollector(t *testing.T) {
	srv, cl := run(t)
	c := NewCollector(srv, "", nil)
	if err := testutil.CollectAndCompare(c, strings.NewReader(expected), names...); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(c); n != 64 {
		t.Fatalf("%d series, want 64 (14 single, 10 statuses, 36 closes, 3 policies, the histogram)", n)
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(`
# HELP weir_closes_total Connections that opened and ended, by close status (application: 3000-4999) and by who started the closing handshake.
# TYPE weir_closes_total counter
`+closeLines()), "weir_closes_total"); err != nil {
		t.Fatal(err)
	}

	// The hand-written text format parses and says the same, every family.
	hs := httptest.NewServer(metrics.Handler(srv, ""))
	defer hs.Close()
	if err := testutil.ScrapeAndCompare(hs.URL, strings.NewReader(expected), names...); err != nil {
		t.Fatal(err)
	}
	var every []string
	for _, f := range metrics.Families(engine.Metrics{}, "") {
		every = append(every, f.Name)
	}
	all, err := testutil.CollectAndFormat(c, expfmt.TypeTextPlain, every...)
	if err != nil {
		t.Fatal(err)
	}
	if err := testutil.ScrapeAndCompare(hs.URL, strings.NewReader(string(all)), every...); err != nil {
		t.Fatalf("the text encoder and the collector differ (%d bytes %.300q): %v", len(all), all, err)
	}

	// The client's collector has the PingRTT round trip in its histogram.
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(cl, "client", prometheus.Labels{"side": "client"}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, mf := range mfs {
		if mf.GetName() == "client_ping_rtt_seconds" {
			h := mf.GetMetric()[0].GetHistogram()
			found = h.GetSampleCount() == 1 && h.GetSampleSum() > 0 && len(h.GetBucket()) == len(engine.RTTBuckets)
		}
	}
	if !found {
		t.Fatalf("no client_ping_rtt_seconds histogram with one observation in %v", mfs)
	}
}

// closeLines is the expected weir_closes_total series: 1000 by the peer once.
func closeLines() string {
	var b strings.Builder
	for _, by := range []string{"local", "peer"} {
		for _, code := range closeCodes() {
			v := "0"
			if code == "1000" && by == "peer" {
				v = "1"
			}
			b.WriteString(`weir_closes_total{by="` + by + `",code="` + code + `"} ` + v + "\n")
		}
	}
	return b.String()
}

func closeCodes() []string {
	var codes []string
	for c := 1000; c <= 1015; c++ {
		codes = append(codes, strconv.Itoa(c))
	}
	return append(codes, "application", "other")
}
