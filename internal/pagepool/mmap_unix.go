//go:build unix

package pagepool

import "golang.org/x/sys/unix"

// mapSlab maps n bytes of private anonymous memory; nil if the kernel refuses.
func mapSlab(n int) []byte {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil
	}
	noHugePages(b)
	return b
}

// release gives b's pages back to the kernel; the mapping stays valid and
// reads zeros until written again. b is page-aligned and a whole number of
// pages (classes from a page up). An error leaves the pages resident: only
// memory, never correctness.
func release(b []byte) { _ = unix.Madvise(b, unix.MADV_DONTNEED) }
