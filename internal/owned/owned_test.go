package owned

import (
	"testing"
	"unsafe"
)

type key struct{}

// A By is its value: no header, no padding, and Get reaches the value itself.
// Not parallel: AllocsPerRun.
func TestByIsItsValue(t *testing.T) {
	type side struct {
		flags uint16
		buf   []byte
	}
	var b By[side, *key]
	if unsafe.Sizeof(b) != unsafe.Sizeof(side{}) {
		t.Fatalf("By is %d bytes, its value %d", unsafe.Sizeof(b), unsafe.Sizeof(side{}))
	}
	k := &key{}
	b.Get(k).flags = 7
	if p := b.Get(k); p.flags != 7 || unsafe.Pointer(p) != unsafe.Pointer(&b) {
		t.Fatal("Get does not return the kept value")
	}
	if n := testing.AllocsPerRun(100, func() { b.Get(k).flags++ }); n != 0 {
		t.Fatalf("%v allocs per Get", n)
	}
}
