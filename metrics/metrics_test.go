package metrics

import (
	"encoding/json"
	"expvar"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/engine"
)

// sample is a snapshot with a value in every kind of field.
func sample() engine.Metrics {
	var m engine.Metrics
	m.Conns, m.Opened, m.Closed = 3, 7, 4
	m.MessagesIn, m.MessagesOut, m.BytesIn, m.BytesOut = 10, 11, 1234567, 89
	m.FramesIn, m.FramesOut = 12, 13
	m.Buffered = 4096
	m.BufferedInbound = 2048
	m.HandshakesAccepted, m.HandshakesTimedOut = 7, 1
	m.HandshakesRefused = []engine.StatusCount{{Status: 403, Count: 2}, {Status: 0, Count: 1}}
	m.Closes = []engine.CloseCount{{Code: "1000", Peer: true, Count: 3}, {Code: "application", Count: 1}}
	m.WritesRefused, m.WritesDropped, m.WritesClosed = 5, 6, 1
	m.LoopTakeovers = 9
	m.PingRTT = engine.Histogram{
		Bounds: []time.Duration{time.Millisecond, time.Second},
		Counts: []uint64{1, 2}, Count: 3, Sum: 2500 * time.Millisecond,
	}
	return m
}

func TestWriteText(t *testing.T) {
	t.Parallel()
	var sb strings.Builder
	if err := WriteText(&sb, Families(sample(), "")); err != nil {
		t.Fatal(err)
	}
	out := sb.String()
	for _, want := range []string{
		"# TYPE weir_connections gauge\nweir_connections 3\n",
		"# TYPE weir_connections_opened_total counter\nweir_connections_opened_total 7\n",
		"weir_bytes_received_total 1234567\n",
		"weir_handshakes_refused_total{status=\"403\"} 2\n",
		"weir_handshakes_refused_total{status=\"other\"} 1\n",
		"weir_handshakes_timed_out_total 1\n",
		"weir_closes_total{by=\"peer\",code=\"1000\"} 3\n",
		"weir_closes_total{by=\"local\",code=\"application\"} 1\n",
		"weir_writes_refused_total{policy=\"error\"} 5\n",
		"weir_writes_refused_total{policy=\"drop\"} 6\n",
		"weir_writes_refused_total{policy=\"close\"} 1\n",
		"weir_loop_takeovers_total 9\n",
		"weir_buffered_bytes 4096\n",
		"weir_buffered_inbound_bytes 2048\n",
		"# TYPE weir_ping_rtt_seconds histogram\n" +
			"weir_ping_rtt_seconds_bucket{le=\"0.001\"} 1\n" +
			"weir_ping_rtt_seconds_bucket{le=\"1\"} 2\n" +
			"weir_ping_rtt_seconds_bucket{le=\"+Inf\"} 3\n" +
			"weir_ping_rtt_seconds_sum 2.5\n" +
			"weir_ping_rtt_seconds_count 3\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
	// Every line is a comment or name[{labels}] value.
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if strings.HasPrefix(line, "# HELP weir_") || strings.HasPrefix(line, "# TYPE weir_") {
			continue
		}
		if !strings.HasPrefix(line, "weir_") || strings.Count(line, " ") != 1 && !strings.Contains(line, "{") {
			t.Errorf("bad line %q", line)
		}
	}
}

func TestEscaping(t *testing.T) {
	t.Parallel()
	var sb strings.Builder
	WriteText(&sb, []Family{{Name: "x", Help: "a\\b\nc\"", Kind: Gauge, LabelNames: []string{"l"},
		Series: []Series{{LabelValues: []string{"q\"\\\n"}, Value: 1.5}}}})
	want := "# HELP x a\\\\b\\nc\"\n# TYPE x gauge\nx{l=\"q\\\"\\\\\\n\"} 1.5\n"
	if sb.String() != want {
		t.Fatalf("got %q, want %q", sb.String(), want)
	}
}

// The families and their series are the same whatever the values, so that a
// collector's descriptions hold for every scrape.
func TestFamiliesStable(t *testing.T) {
	t.Parallel()
	s, err := engine.NewServer(engine.NopHandler{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := Families(s.Metrics(), "ns")
	if len(a) != 18 {
		t.Fatalf("%d families", len(a))
	}
	for _, f := range a {
		if !strings.HasPrefix(f.Name, "ns_") || len(f.Series) == 0 {
			t.Fatalf("family %+v", f)
		}
		for _, s := range f.Series {
			if len(s.LabelValues) != len(f.LabelNames) {
				t.Fatalf("family %s: labels %v for names %v", f.Name, s.LabelValues, f.LabelNames)
			}
		}
	}
}

func TestHandlerAndExpvar(t *testing.T) {
	t.Parallel()
	src := SourceFunc(sample)
	rec := httptest.NewRecorder()
	Handler(src, "gw").ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != ContentType ||
		!strings.Contains(rec.Body.String(), "\ngw_connections 3\n") {
		t.Fatalf("GET: %d %q\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	rec = httptest.NewRecorder()
	Handler(src, "").ServeHTTP(rec, httptest.NewRequest("POST", "/metrics", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", rec.Code)
	}

	// expvar names are process-wide and published once: a name per run, so
	// that -count=N runs do not collide.
	name := fmt.Sprintf("weir_metrics_test_%d", expvarRuns.Add(1))
	PublishExpvar(name, src)
	var got engine.Metrics
	if err := json.Unmarshal([]byte(expvar.Get(name).String()), &got); err != nil {
		t.Fatal(err)
	}
	if got.Conns != 3 || got.WritesDropped != 6 || got.PingRTT.Count != 3 || len(got.Closes) != 2 {
		t.Fatalf("expvar JSON decodes to %+v", got)
	}
}

var expvarRuns atomic.Int64
