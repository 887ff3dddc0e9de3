package opmetrics

import (
	"errors"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/wswrite"
)

// The tables map codes and statuses outside them to "other", never out of range.
func TestTables(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code frame.StatusCode
		want string
	}{
		{0, "other"}, {999, "other"}, {1000, "1000"}, {1015, "1015"}, {1016, "other"},
		{2999, "other"}, {3000, "application"}, {4999, "application"}, {5000, "other"}, {65535, "other"},
	} {
		if got := closeLabel(closeIndex(tc.code)); got != tc.want {
			t.Errorf("close code %d: %q, want %q", tc.code, got, tc.want)
		}
	}
	for _, tc := range []struct{ status, want int }{{400, 0}, {503, 8}, {414, nRefuse - 1}, {0, nRefuse - 1}, {-1, nRefuse - 1}} {
		if got := refuseIndex(tc.status); got != tc.want {
			t.Errorf("status %d: slot %d, want %d", tc.status, got, tc.want)
		}
	}
}

func TestCounters(t *testing.T) {
	t.Parallel()
	var m Counters
	for _, d := range []time.Duration{0, RTTBuckets[0], RTTBuckets[0] + 1, time.Hour} {
		m.ObserveRTT(d)
	}
	h := m.RTT()
	if h.Counts[0] != 2 || h.Counts[1] != 3 || h.Count != 4 || h.Sum != 2*RTTBuckets[0]+1+time.Hour {
		t.Fatalf("buckets %v count %d sum %v; want 2 in the first, 3 by the second, 4 in all", h.Counts, h.Count, h.Sum)
	}
	m.Accept()
	m.Refuse(403)
	m.Refuse(999)
	m.Close(1000, true)
	m.Close(4000, false)
	m.Close(7, false)
	m.Write(WriteDropped)
	if s := m.Snapshot(EngineStats{}, 0, 0, 0, TLS{}); s.HandshakesAccepted != 1 || s.WritesDropped != 1 || s.WritesRefused != 0 {
		t.Fatalf("accepted %d, writes %d/%d", s.HandshakesAccepted, s.WritesDropped, s.WritesRefused)
	}
	got := map[string]uint64{}
	for _, s := range m.Refused() {
		got[s.Label()] += s.Count
	}
	for _, c := range m.Closes() {
		got[c.By()+" "+c.Code] += c.Count
	}
	want := map[string]uint64{"403": 1, "other": 1, "peer 1000": 1, "local application": 1, "local other": 1}
	for k, v := range got {
		if v != want[k] {
			t.Errorf("%s: %d, want %d", k, v, want[k])
		}
	}
	if n := len(m.Closes()); n != 2*nCloseCodes {
		t.Errorf("%d close series, want %d", n, 2*nCloseCodes)
	}
}

// TestWriteErr: each WriteBufferPolicy refusal counts under its policy; nil and
// other errors count nothing.
func TestWriteErr(t *testing.T) {
	t.Parallel()
	var m Counters
	for _, err := range []error{nil, errors.New("other"), wswrite.ErrClosed, wswrite.ErrFull, wswrite.ErrDropped, wswrite.ErrDropped, wswrite.ErrSlowConsumer} {
		m.WriteErr(err)
	}
	s := m.Snapshot(EngineStats{}, 0, 0, 0, TLS{})
	if r, d, c := s.WritesRefused, s.WritesDropped, s.WritesClosed; r != 1 || d != 2 || c != 1 {
		t.Fatalf("refused %d, dropped %d, closed %d; want 1, 2, 1", r, d, c)
	}
	m.TimeOut()
	if n := m.Snapshot(EngineStats{}, 0, 0, 0, TLS{}).HandshakesTimedOut; n != 1 {
		t.Fatalf("HandshakesTimedOut = %d, want 1", n)
	}
}

// TestSnapshotCarries: what the engine keeps outside Counters lands in the
// snapshot's own fields, none swapped.
func TestSnapshotCarries(t *testing.T) {
	t.Parallel()
	var m Counters
	st := EngineStats{Conns: 3, Opened: 5, Closed: 2}
	s := m.Snapshot(st, 11, 13, 17, TLS{Loop: 19, Busy: 23})
	if s.EngineStats != st || s.Buffered != 11 || s.BufferedInbound != 13 || s.LoopTakeovers != 17 || s.TLS != (TLS{Loop: 19, Busy: 23}) {
		t.Fatalf("snapshot %+v", s)
	}
	if len(s.HandshakesRefused) != nRefuse || len(s.Closes) != 2*nCloseCodes || len(s.PingRTT.Counts) != len(RTTBuckets) {
		t.Fatalf("tables: %d refused, %d closes, %d buckets", len(s.HandshakesRefused), len(s.Closes), len(s.PingRTT.Counts))
	}
}
