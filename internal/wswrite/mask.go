package wswrite

import (
	crand "crypto/rand"
	"math/rand/v2"
	"sync"
)

// Masking keys for client frames (RFC 6455 §5.3: fresh and unpredictable for every
// frame). They come from ChaCha8 generators seeded from crypto/rand and kept in a
// pool: no syscall and no allocation per frame, and no generator state held by an
// idle connection.
var maskGens = sync.Pool{New: func() any {
	var seed [32]byte
	crand.Read(seed[:])
	return rand.NewChaCha8(seed)
}}

// MaskKey returns a fresh masking key from the pool of generators.
func MaskKey() [4]byte {
	g := maskGens.Get().(*rand.ChaCha8)
	v := g.Uint64()
	maskGens.Put(g)
	return [4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
}
