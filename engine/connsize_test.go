package engine

import (
	"testing"
	"unsafe"
)

// TestConnSize: an idle connection on the loops is its Conn and nothing else,
// allocated in the 512-byte size class. A field that takes it past 512 bytes
// moves every connection to the 576-byte class: find the padding for it, or
// put it behind a pointer made on first need (sharedExtras, readExtras).
func TestConnSize(t *testing.T) {
	t.Parallel()
	if s := unsafe.Sizeof(Conn{}); s > 512 {
		t.Errorf("Conn is %d bytes, over 512", s)
	}
}
