package engine

import (
	"testing"
)

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
