package pagepool

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// Slabs are never backed by transparent huge pages: where THP is "always",
// a slab of 2 MiB or more could otherwise take a 2 MiB page for a buffer of
// 8 KiB, and a release would give back only part of one. VmFlags "nh" in
// /proc/self/smaps is MADV_NOHUGEPAGE.
func TestNoHugePages(t *testing.T) {
	t.Parallel()
	var p Pool
	var bufs [][]byte
	for range 1024 { // 8 MiB of one class: slabs of 2 MiB and more
		bufs = append(bufs, p.Get(8<<10))
	}
	defer func() {
		for _, b := range bufs {
			p.Put(b)
		}
	}()
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(bufs[len(bufs)-1])))
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		l := sc.Text()
		var lo, hi uintptr
		if n, _ := fmt.Sscanf(l, "%x-%x", &lo, &hi); n == 2 {
			in = lo <= addr && addr < hi
			continue
		}
		if in && strings.HasPrefix(l, "VmFlags:") {
			if !strings.Contains(l, " nh") {
				t.Fatalf("the slab holding %#x may be backed by huge pages: %s", addr, l)
			}
			return
		}
	}
	t.Fatalf("no mapping holds %#x", addr)
}
