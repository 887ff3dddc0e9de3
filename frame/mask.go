package frame

import (
	"encoding/binary"
	"math/bits"
)

// Mask XORs b in place with the masking key (RFC 6455 §5.3), starting at key
// offset pos (only pos&3 is used), and returns the key offset of the byte
// after b, (pos+len(b))&3. Passing that back in lets a payload that arrives
// in pieces be unmasked piece by piece. Masking and unmasking are the same
// operation.
//
// Mask works a machine word or a vector at a time with unaligned loads, so b
// may start anywhere: on amd64 with AVX2 it uses vector code for long
// payloads, elsewhere (and with the purego build tag) an unrolled 64-bit
// loop. What is left under 64 bytes, and every short payload (small frames
// dominate push traffic), is masked right here without a loop, with at most
// eight overlapping word loads and stores.
//
// Mask is nosplit: it needs only a small frame, and skipping the stack-growth
// check is a measurable share of masking a 16-byte payload.
//
//go:nosplit
func Mask(key [4]byte, pos int, b []byte) int {
	pos &= 3
	next := (pos + len(b)) & 3
	k := keyWord(key, pos)
	if len(b) >= 64 {
		b, k = maskLong(b, k) // leaves fewer than 64 bytes
	}
	// The short path is written out here rather than in a function: a call
	// would cost as much as the masking itself for a 16-byte payload.
	n := len(b)
	k64 := uint64(k)<<32 | uint64(k)
	switch {
	case n >= 16:
		// Front words with the key word as is; the back words t, which may
		// overlap them, start n-len(t) bytes in: rotate by that many bytes.
		// Every load comes before any store, so a byte covered twice is
		// stored twice with the same masked value.
		if n >= 32 {
			kt := bits.RotateLeft64(k64, -8*(n&3))
			t := b[n-32 : n : n]
			a0 := binary.LittleEndian.Uint64(b[0:8])
			a1 := binary.LittleEndian.Uint64(b[8:16])
			a2 := binary.LittleEndian.Uint64(b[16:24])
			a3 := binary.LittleEndian.Uint64(b[24:32])
			t0 := binary.LittleEndian.Uint64(t[0:8])
			t1 := binary.LittleEndian.Uint64(t[8:16])
			t2 := binary.LittleEndian.Uint64(t[16:24])
			t3 := binary.LittleEndian.Uint64(t[24:32])
			binary.LittleEndian.PutUint64(b[0:8], a0^k64)
			binary.LittleEndian.PutUint64(b[8:16], a1^k64)
			binary.LittleEndian.PutUint64(b[16:24], a2^k64)
			binary.LittleEndian.PutUint64(b[24:32], a3^k64)
			binary.LittleEndian.PutUint64(t[0:8], t0^kt)
			binary.LittleEndian.PutUint64(t[8:16], t1^kt)
			binary.LittleEndian.PutUint64(t[16:24], t2^kt)
			binary.LittleEndian.PutUint64(t[24:32], t3^kt)
			return next
		}
		a0 := binary.LittleEndian.Uint64(b[0:8])
		a1 := binary.LittleEndian.Uint64(b[8:16])
		if n == 16 {
			// The common small frame: no back words.
			binary.LittleEndian.PutUint64(b[0:8], a0^k64)
			binary.LittleEndian.PutUint64(b[8:16], a1^k64)
			return next
		}
		kt := bits.RotateLeft64(k64, -8*(n&3))
		t := b[n-16 : n : n]
		t0 := binary.LittleEndian.Uint64(t[0:8])
		t1 := binary.LittleEndian.Uint64(t[8:16])
		binary.LittleEndian.PutUint64(b[0:8], a0^k64)
		binary.LittleEndian.PutUint64(b[8:16], a1^k64)
		binary.LittleEndian.PutUint64(t[0:8], t0^kt)
		binary.LittleEndian.PutUint64(t[8:16], t1^kt)
	case n >= 8:
		t := b[n-8 : n : n]
		a := binary.LittleEndian.Uint64(b[0:8])
		c := binary.LittleEndian.Uint64(t)
		binary.LittleEndian.PutUint64(b[0:8], a^k64)
		binary.LittleEndian.PutUint64(t, c^bits.RotateLeft64(k64, -8*(n&3)))
	case n >= 4:
		t := b[n-4 : n : n]
		a := binary.LittleEndian.Uint32(b[0:4])
		c := binary.LittleEndian.Uint32(t)
		binary.LittleEndian.PutUint32(b[0:4], a^k)
		binary.LittleEndian.PutUint32(t, c^bits.RotateLeft32(k, -8*(n&3)))
	case n >= 2:
		// n is 2 or 3: the back pair starts n-2 bytes in.
		t := b[n-2 : n : n]
		a := binary.LittleEndian.Uint16(b[0:2])
		c := binary.LittleEndian.Uint16(t)
		binary.LittleEndian.PutUint16(b[0:2], a^uint16(k))
		binary.LittleEndian.PutUint16(t, c^uint16(k>>(8*(n-2))))
	case n == 1:
		b[0] ^= byte(k)
	}
	return next
}

// maskGeneric is Mask without the vector code, so that tests can check the
// portable path on machines where Mask would not take it: the unrolled loop,
// then Mask for the rest, which is too short for Mask to leave its own code.
func maskGeneric(key [4]byte, pos int, b []byte) int {
	pos &= 3
	rest := maskBlocks(b, keyWord(key, pos))
	Mask(key, pos, rest) // maskBlocks masked a multiple of 4 bytes: same key offset
	return (pos + len(b)) & 3
}

// maskNaive is the byte loop that §5.3 describes, the reference Mask is
// tested and benchmarked against.
func maskNaive(key [4]byte, pos int, b []byte) int {
	for i := range b {
		b[i] ^= key[pos&3]
		pos++
	}
	return pos & 3
}

// keyWord returns the key rotated so that its first byte (in little-endian
// order) is the one that masks the byte at offset pos. Any chunk of b that
// starts a multiple of 4 bytes in is then masked by XOR with this word, and
// 8-byte chunks with the word repeated.
func keyWord(key [4]byte, pos int) uint32 {
	return bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*pos)
}

// maskBlocks masks the 64-byte blocks at the front of b with the key word k
// and returns the rest (under 64 bytes, with the same key word). Unrolling
// matters: a plain 8-byte loop stays near 17 GB/s on this kind of machine
// while this one reaches about 50 GB/s (BenchmarkMask). Little-endian loads
// and stores compile to single unaligned moves on the architectures Go
// supports well and to byte shuffles elsewhere, which stay correct.
func maskBlocks(b []byte, k uint32) []byte {
	k64 := uint64(k)<<32 | uint64(k)
	for len(b) >= 64 {
		v := b[:64:64]
		binary.LittleEndian.PutUint64(v[0:], binary.LittleEndian.Uint64(v[0:])^k64)
		binary.LittleEndian.PutUint64(v[8:], binary.LittleEndian.Uint64(v[8:])^k64)
		binary.LittleEndian.PutUint64(v[16:], binary.LittleEndian.Uint64(v[16:])^k64)
		binary.LittleEndian.PutUint64(v[24:], binary.LittleEndian.Uint64(v[24:])^k64)
		binary.LittleEndian.PutUint64(v[32:], binary.LittleEndian.Uint64(v[32:])^k64)
		binary.LittleEndian.PutUint64(v[40:], binary.LittleEndian.Uint64(v[40:])^k64)
		binary.LittleEndian.PutUint64(v[48:], binary.LittleEndian.Uint64(v[48:])^k64)
		binary.LittleEndian.PutUint64(v[56:], binary.LittleEndian.Uint64(v[56:])^k64)
		b = b[64:]
	}
	return b
}
