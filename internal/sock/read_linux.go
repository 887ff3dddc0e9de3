package sock

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The calls on a connection's socket are raw system calls: the fd is
// non-blocking (every fd this package hands out is, and the engine owns no
// other), so a call returns at once (EAGAIN at worst) and needs no word with
// the scheduler. unix.Read and the like go through
// runtime.entersyscall/exitsyscall, and entersyscall wakes sysmon whenever
// sysmon sleeps because every P is idle, as it does between the small reads
// of a quiet connection: a futex wake and a context switch per call (issue 15,
// bench/results/perf15-chop-2026-12-06.md). The race detector is told what the
// kernel wrote (race_on.go), as by unix.Read; writev2 tells it nothing, as
// before (its buffers would escape to the heap under -race).

// zero stands in for the data of an empty slice (a raw call needs an address).
var zero uintptr

func bufPtr(b []byte) uintptr {
	if len(b) == 0 {
		return uintptr(unsafe.Pointer(&zero))
	}
	return uintptr(unsafe.Pointer(&b[0]))
}

// sysRead is read(2) on a non-blocking fd.
func sysRead(fd int, b []byte) (int, error) {
	r, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), bufPtr(b), uintptr(len(b)))
	if e != 0 {
		return -1, e
	}
	raceWrote(b[:r])
	return int(r), nil
}
