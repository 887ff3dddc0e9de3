package outq

import (
	"sync"

	"github.com/weir-ws/weir/frame"
)

// Batch bounds the pong frames batched for one read turn (a few dozen small
// pongs, at least 8 of the largest).
const Batch = 1 << 10

// Pongs holds the pong frames owed for the pings of one read turn, in order,
// encoded (RFC 6455 §5.5.3 allows answering only the latest: past Batch bytes,
// or when the caller says the socket is full, only the latest is kept). Take
// one with GetPongs, give it back with PutPongs.
type Pongs struct {
	n      int // bytes of b in use
	frames int // pong frames in b[:n]
	b      [Batch]byte
}

var pongPool = sync.Pool{New: func() any { return new(Pongs) }}

// GetPongs returns an empty batch from the pool.
func GetPongs() *Pongs {
	p := pongPool.Get().(*Pongs)
	p.n, p.frames = 0, 0
	return p
}

// PutPongs gives p back to the pool.
func PutPongs(p *Pongs) { pongPool.Put(p) }

// Add encodes a pong carrying payload (at most frame.MaxControlPayload bytes),
// masked with key when masked (a client's), after the pongs owed already, or
// instead of them with latestOnly or when the batch is full.
func (p *Pongs) Add(payload []byte, masked bool, key [4]byte, latestOnly bool) {
	h := frame.Header{Fin: true, Opcode: frame.OpPong, Length: int64(len(payload)), Masked: masked, Mask: key}
	if latestOnly || p.n+frame.HeaderSize(h)+len(payload) > len(p.b) {
		p.n, p.frames = 0, 0
	}
	hn := frame.PutHeader(p.b[p.n:], h)
	copy(p.b[p.n+hn:], payload)
	if masked {
		frame.Mask(key, 0, p.b[p.n+hn:p.n+hn+len(payload)])
	}
	p.n += hn + len(payload)
	p.frames++
}

// Len is the number of encoded bytes owed.
func (p *Pongs) Len() int { return p.n }

// Frames is the number of pong frames owed.
func (p *Pongs) Frames() int { return p.frames }

// Bytes returns the encoded frames, valid until the next Add.
func (p *Pongs) Bytes() []byte { return p.b[:p.n] }
