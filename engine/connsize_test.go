package engine

import (
	"testing"
	"unsafe"
)

// TestConnSize: an idle connection on the loops is its Conn and nothing else,
// allocated in the 448-byte size class. A field that takes it past 448 bytes
// moves every connection to the 480-byte class: find the padding for it, or
// put it behind a pointer made on first need (rareIdentity, sharedExtras,
// readExtras).
func TestConnSize(t *testing.T) {
	t.Parallel()
	if s := unsafe.Sizeof(Conn{}); s > 448 {
		t.Errorf("Conn is %d bytes, over 448", s)
	}
}
