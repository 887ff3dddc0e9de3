package sock

import "sync/atomic"

// FD is an owned socket; see the package documentation.
type FD struct {
	live atomic.Int32 // fd+1 while owned and open, 0 otherwise
	num  int32        // fd+1 as owned (0: never owned)
	gen  uint32
}

// gens hands out generations; 0 is never one (it names "no owner", and the
// engine registers listening sockets with token 0).
var gens atomic.Uint32

func nextGen() uint32 {
	for {
		if g := gens.Add(1); g != 0 {
			return g
		}
	}
}

// Own takes ownership of fd with a new generation. It is called once, before
// the FD is shared with other goroutines.
func (f *FD) Own(fd int) {
	f.num = int32(fd) + 1
	f.gen = nextGen()
	f.live.Store(int32(fd) + 1)
}

// Int is the fd number for a syscall, or -1 when nothing is owned or the fd is
// closed.
func (f *FD) Int() int { return int(f.live.Load()) - 1 }

// Num is the number as owned, also after Close (for tables, not syscalls); -1
// when nothing was ever owned.
func (f *FD) Num() int { return int(f.num) - 1 }

// Gen is the generation of this ownership (0 when nothing was ever owned).
func (f *FD) Gen() uint32 { return f.gen }

// Close closes the fd the first time it is called and does nothing afterwards
// (nor on an FD that owns nothing).
func (f *FD) Close() error {
	n := f.live.Swap(0)
	if n == 0 {
		return nil
	}
	return closeFD(int(n) - 1)
}
