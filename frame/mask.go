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
// loop. Short payloads are masked right here, 32, 16, 8, 4, 2 and 1 bytes as
// the bits of the length say, without a loop.
func Mask(key [4]byte, pos int, b []byte) int {
	pos &= 3
	next := (pos + len(b)) & 3
	k := keyWord(key, pos)
	if len(b) >= 64 {
		b, k = maskLong(b, k) // leaves fewer than 64 bytes
	}
	k64 := uint64(k)<<32 | uint64(k)
	if len(b) >= 32 {
		v := b[:32:32]
		binary.LittleEndian.PutUint64(v, binary.LittleEndian.Uint64(v)^k64)
		binary.LittleEndian.PutUint64(v[8:], binary.LittleEndian.Uint64(v[8:])^k64)
		binary.LittleEndian.PutUint64(v[16:], binary.LittleEndian.Uint64(v[16:])^k64)
		binary.LittleEndian.PutUint64(v[24:], binary.LittleEndian.Uint64(v[24:])^k64)
		b = b[32:]
	}
	if len(b) >= 16 {
		v := b[:16:16]
		binary.LittleEndian.PutUint64(v, binary.LittleEndian.Uint64(v)^k64)
		binary.LittleEndian.PutUint64(v[8:], binary.LittleEndian.Uint64(v[8:])^k64)
		b = b[16:]
	}
	if len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
		b = b[8:]
	}
	if len(b) >= 4 {
		binary.LittleEndian.PutUint32(b, binary.LittleEndian.Uint32(b)^k)
		b = b[4:]
	}
	if len(b) >= 2 {
		binary.LittleEndian.PutUint16(b, binary.LittleEndian.Uint16(b)^uint16(k))
		b = b[2:]
		k >>= 16
	}
	if len(b) > 0 {
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
