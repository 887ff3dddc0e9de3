package outq

import (
	"math/bits"

	"github.com/weir-ws/weir/internal/pagepool"
)

// Held holds whole messages written while a fragmented message is in progress
// (RFC 6455 §5.4: they may not go between its fragments), with the completion
// callbacks of those among them, by end offset in the held bytes.
type Held struct {
	buf   []byte // pooled
	dones []HeldDone
}

// HeldDone is a completion waiting for the held bytes up to End to go out.
type HeldDone struct {
	End int
	Fn  func(error)
}

// Len is the number of held bytes.
func (h *Held) Len() int { return len(h.buf) }

// Cap is the memory the held bytes take.
func (h *Held) Cap() int { return cap(h.buf) }

// Bytes returns the held bytes.
func (h *Held) Bytes() []byte { return h.buf }

// Growth is the most memory holding n more bytes adds at any moment, as
// Queue.Growth: nothing when the buffer has room, else the whole buffer it
// would move to (the old one is held until the bytes have moved).
func (h *Held) Growth(n int) int64 {
	if cap(h.buf)-len(h.buf) >= n {
		return 0
	}
	return int64(max(minBuf, 1<<bits.Len(uint(len(h.buf)+n-1))))
}

// Hold appends a whole encoded frame, header then payload.
func (h *Held) Hold(hdr, p []byte) {
	n := len(hdr) + len(p)
	if h.buf == nil {
		h.buf = pagepool.Default.Get(max(n, minBuf))[:0]
	} else {
		h.buf = grow(h.buf, n)
	}
	h.buf = append(append(h.buf, hdr...), p...)
}

// AddDone records fn for the message just held.
func (h *Held) AddDone(fn func(error)) {
	h.dones = append(h.dones, HeldDone{End: len(h.buf), Fn: fn})
}

// Release gives the held bytes' buffer back and returns the callbacks; the
// caller has sent the bytes (or dropped them).
func (h *Held) Release() []HeldDone {
	d := h.dones
	if h.buf != nil {
		pagepool.Default.Put(h.buf)
	}
	h.buf, h.dones = nil, nil
	return d
}

// grow returns b with room for n more bytes, moving to a larger pooled
// buffer when it has not.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := pagepool.Default.Get(len(b) + n)[:len(b)]
	copy(nb, b)
	pagepool.Default.Put(b)
	return nb
}
