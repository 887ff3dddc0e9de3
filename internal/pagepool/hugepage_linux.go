package pagepool

import "golang.org/x/sys/unix"

// noHugePages keeps transparent huge pages off slab b: where THP is "always",
// a slab of 2 MiB or more could take a 2 MiB page for one small buffer, and
// releasing a buffer (MADV_DONTNEED) would split it rather than give it back.
// An error leaves the slab as it is: only memory, never correctness.
func noHugePages(b []byte) { _ = unix.Madvise(b, unix.MADV_NOHUGEPAGE) }
