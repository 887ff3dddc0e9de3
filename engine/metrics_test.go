package engine

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// refusedBy returns the count of handshakes refused with status (0: other).
func refusedBy(m Metrics, status int) uint64 {
	for _, s := range m.HandshakesRefused {
		if s.Status == status {
			return s.Count
		}
	}
	return 0
}

// closesBy returns the count of closes with label code, by the peer or not.
func closesBy(m Metrics, code string, peer bool) uint64 {
	for _, c := range m.Closes {
		if c.Code == code && c.Peer == peer {
			return c.Count
		}
	}
	return 0
}

// closeSum is the number of closes counted, all codes.
func closeSum(m Metrics) (n uint64) {
	for _, c := range m.Closes {
		n += c.Count
	}
	return n
}

// plainGET sends a GET without Upgrade and returns the answer's status.
func plainGET(t *testing.T, addr string) int {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(nc, "GET / HTTP/1.1\r\nHost: "+addr+"\r\n\r\n")
	buf := make([]byte, 12)
	if _, err := io.ReadFull(nc, buf); err != nil {
		t.Fatal(err)
	}
	var code int
	for _, b := range buf[9:12] {
		code = code*10 + int(b-'0')
	}
	return code
}

// Handshakes on the loops: each answer is counted once, under its status.
func TestMetricsHandshakes(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		s, addr := startServer(t, newEcho(), cfg, nil)
		rc := dialRaw(t, addr)
		_, resp := dialRawResp(t, addr, "Origin: http://evil.example")
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-origin handshake answered %d, want 403", resp.StatusCode)
		}
		if code := plainGET(t, addr); code != http.StatusUpgradeRequired {
			t.Fatalf("plain GET answered %d, want 426", code)
		}
		m := s.Metrics()
		if m.HandshakesAccepted != 1 || refusedBy(m, 403) != 1 || refusedBy(m, 426) != 1 {
			t.Fatalf("accepted %d, refused 403: %d, 426: %d; want 1 each (%+v)",
				m.HandshakesAccepted, refusedBy(m, 403), refusedBy(m, 426), m.HandshakesRefused)
		}
		var all uint64
		for _, r := range m.HandshakesRefused {
			all += r.Count
		}
		if all != 2 {
			t.Fatalf("%d refusals counted, want 2: %+v", all, m.HandshakesRefused)
		}
		rc.nc.Close()
	})
}

// Handshakes through ServeHTTP are counted the same way, MaxConns' 503 included.
func TestMetricsHandshakesServeHTTP(t *testing.T) {
	t.Parallel()
	s, err := NewServer(newEcho(), &Config{MaxConns: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	addr := strings.TrimPrefix(hs.URL, "http://")
	_, resp := dialRawResp(t, addr, "Origin: http://evil.example")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin handshake answered %d, want 403", resp.StatusCode)
	}
	rc := dialRaw(t, addr)
	defer rc.nc.Close()
	waitFor(t, func() bool { return s.NumConns() == 1 })
	if _, resp := dialRawResp(t, addr); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("handshake over MaxConns answered %d, want 503", resp.StatusCode)
	}
	m := s.Metrics()
	if m.HandshakesAccepted != 1 || refusedBy(m, 403) != 1 || refusedBy(m, 503) != 1 {
		t.Fatalf("accepted %d, refused 403: %d, 503: %d; want 1 each", m.HandshakesAccepted, refusedBy(m, 403), refusedBy(m, 503))
	}
}

// Closes are counted once per connection that opened, by code and by who
// started the closing handshake.
func TestMetricsCloses(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		h := newBPHandler()
		s, addr := startServer(t, h, cfg, nil)

		// The peer closes with 1000.
		rc := dialRaw(t, addr)
		h.conn(t)
		p, _ := frame.AppendClose(nil, frame.StatusNormalClosure, "")
		rc.send(true, frame.OpClose, p)
		rc.expectClose(frame.StatusNormalClosure)
		rc.expectEOF()
		cliRecv(t, h.closed, "OnClose 1000")

		// An unmasked frame: the server fails the connection with 1002.
		rc = dialRaw(t, addr)
		h.conn(t)
		rc.write(frameBytes(true, frame.OpText, 0, []byte("x"), false))
		rc.expectClose(frame.StatusProtocolError)
		rc.expectEOF()
		cliRecv(t, h.closed, "OnClose 1002")

		// The server closes with 4001, the peer answers.
		rc = dialRaw(t, addr)
		c := h.conn(t)
		c.Close(4001, "bye")
		rc.expectClose(4001)
		p, _ = frame.AppendClose(nil, 4001, "")
		rc.send(true, frame.OpClose, p) // the echo: the close status is 4001 (RFC 6455 §7.1.5)
		rc.expectEOF()
		cliRecv(t, h.closed, "OnClose 4001")

		m := s.Metrics()
		if closesBy(m, "1000", true) != 1 || closesBy(m, "1002", false) != 1 ||
			closesBy(m, "application", false) != 1 || closeSum(m) != 3 {
			t.Fatalf("closes %+v; want 1000 by the peer, 1002 and application locally, once each", m.Closes)
		}
		if m.Closed != 3 || m.HandshakesAccepted != 3 {
			t.Fatalf("closed %d, accepted %d; want 3 each", m.Closed, m.HandshakesAccepted)
		}
	})
}

// A write the WriteBufferPolicy refuses is counted under its policy; writes
// that go ahead are not.
func TestMetricsWritePolicy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		policy WriteBufferPolicy
		want   error
		field  func(Metrics) uint64
	}{
		{WriteBufferError, ErrWriteBufferFull, func(m Metrics) uint64 { return m.WritesRefused }},
		{WriteBufferDrop, ErrMessageDropped, func(m Metrics) uint64 { return m.WritesDropped }},
		{WriteBufferClose, ErrSlowConsumer, func(m Metrics) uint64 { return m.WritesClosed }},
	}
	for _, tc := range cases {
		t.Run(tc.want.Error(), func(t *testing.T) {
			t.Parallel()
			cfg := Config{MaxWriteBuffer: 64 << 10, WriteBufferPolicy: tc.policy, PingInterval: -1}
			h := newBPHandler()
			s, addr := startServer(t, h, cfg, nil)
			rc := bpDial(t, addr)
			defer rc.nc.Close()
			c := h.conn(t)
			if _, err := bpFill(t, c); !errors.Is(err, tc.want) {
				t.Fatalf("refused write: %v, want %v", err, tc.want)
			}
			m := s.Metrics()
			if got := tc.field(m); got != 1 {
				t.Fatalf("%d refusals counted, want 1", got)
			}
			if m.WritesRefused+m.WritesDropped+m.WritesClosed != 1 {
				t.Fatalf("refusals counted under other policies: %+v", m)
			}
			// Under WriteBufferClose the refusal also closes the connection
			// (evClose, on its loop), which frees its queue: Buffered may
			// already be 0 (1 in 100 runs on a quiet machine).
			if m.Buffered == 0 && tc.policy != WriteBufferClose {
				t.Fatal("Buffered is 0 with a full queue")
			}
		})
	}
}

// Every PingRTT round trip lands in the histogram, in its bucket.
func TestMetricsPingRTT(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		srv := newCliPeer(true)
		_, addr := startServer(t, srv, cfg, nil)
		cl := cliClient(t, nil, cfg)
		c := cliDial(t, cl, "ws://"+addr+"/", nil)
		var sum time.Duration
		const n = 3
		for range n {
			d, err := c.PingRTT(cliCtx(t))
			if err != nil {
				t.Fatal(err)
			}
			sum += d
		}
		h := cl.Metrics().PingRTT
		if h.Count != n || h.Sum != sum {
			t.Fatalf("histogram count %d sum %v; want %d and %v", h.Count, h.Sum, n, sum)
		}
		if len(h.Counts) != len(RTTBuckets) || h.Counts[len(h.Counts)-1] > h.Count {
			t.Fatalf("bad buckets %v for count %d", h.Counts, h.Count)
		}
		for i := 1; i < len(h.Counts); i++ {
			if h.Counts[i] < h.Counts[i-1] {
				t.Fatalf("buckets not cumulative: %v", h.Counts)
			}
		}
		if cliRecv(t, srv.opened, "server OnOpen") == nil {
			t.Fatal("no server conn")
		}
	})
}
