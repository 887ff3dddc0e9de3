package engine

import (
	"testing"
	"unsafe"
)

// TestConnSize: an idle connection on the loops is its Conn and nothing else,
// allocated in the 384-byte size class. A field that takes it past 384 bytes
// moves every connection to the 416-byte class: find the padding for it, or
// put it behind a pointer made on first need (rareIdentity, sharedExtras,
// readExtras).
func TestConnSize(t *testing.T) {
	t.Parallel()
	if s := unsafe.Sizeof(Conn{}); s > 384 {
		t.Errorf("Conn is %d bytes, over 384", s)
	}
}

func TestStateString(t *testing.T) {
	t.Parallel()
	for s, want := range map[State]string{
		StateConnecting: "connecting", StateOpen: "open", StateClosing: "closing", StateClosed: "closed",
		StateClosed + 1: "unknown", ^State(0): "unknown",
	} {
		if got := s.String(); got != want {
			t.Errorf("State(%d).String() = %q, want %q", uint32(s), got, want)
		}
	}
}
