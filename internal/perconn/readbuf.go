package perconn

import "github.com/weir-ws/weir/bufpool"

// A reader reads into SmallBuf bytes while reads are small, so that an idle
// connection, blocked in Read, holds 1 KiB rather than 16: it moves to BigBuf
// when a read fills the small buffer (more is waiting), and back after
// ShrinkAfter reads in a row that would have fit the small one (not at the
// first: a message just over 1 KiB would then cost two reads every time).
const (
	SmallBuf    = 1 << 10
	BigBuf      = 16 << 10
	ShrinkAfter = 8
)

// readBuf is ReadLoop's buffer, sized by the reads it takes (bufpool: a move
// allocates nothing).
type readBuf struct {
	b     []byte
	small int // reads in a row that fit SmallBuf, while b is big
}

func newReadBuf() readBuf { return readBuf{b: bufpool.Get(SmallBuf)} }

// read records a read of n bytes into b, which the caller is done with, and
// picks the buffer for the next read.
func (r *readBuf) read(n int) {
	switch {
	case n == len(r.b) && n < BigBuf:
		bufpool.Put(r.b)
		r.b = bufpool.Get(BigBuf)
		r.small = 0
	case len(r.b) == SmallBuf:
	case n > SmallBuf:
		r.small = 0
	default:
		if r.small++; r.small >= ShrinkAfter {
			bufpool.Put(r.b)
			r.b = bufpool.Get(SmallBuf)
			r.small = 0
		}
	}
}

func (r *readBuf) release() {
	bufpool.Put(r.b)
	r.b = nil
}
