//go:build !purego

package frame

import (
	"encoding/binary"
	"math/bits"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// haveSIMD selects the AVX2 loop in mask_amd64.s, two to three times as fast
// as maskBlocks from a few hundred bytes on (BenchmarkMask).
var haveSIMD = cpu.X86.HasAVX2

// simdMinLen is the payload length from which the AVX2 loop pays for its
// call; below it maskBlocks is as fast.
const simdMinLen = 256

// simdAlignMin is the payload length from which the first bytes are masked
// separately so that the vector stores are 32-byte aligned: stores that
// straddle cache lines cost 20-30% of the throughput on long payloads, and
// below about 2 KiB masking the head costs more than it saves.
const simdAlignMin = 2048

// maskAVX2 XORs n bytes at p, n a multiple of 32, with the 8-byte key pattern k.
//
//go:noescape
func maskAVX2(p *byte, n int, k uint64)

// maskLong masks all but the last few (under 64) bytes of b and returns them
// with their key word; k is the key word for b[0].
func maskLong(b []byte, k uint32) ([]byte, uint32) {
	if !haveSIMD || len(b) < simdMinLen {
		return maskBlocks(b, k), k
	}
	if h := int(-uintptr(unsafe.Pointer(&b[0])) & 31); h != 0 && len(b) >= simdAlignMin {
		// Bring b[0] to a 32-byte boundary. The head's length changes the
		// key offset, so rotate the key word by as many bytes.
		var key [4]byte
		binary.LittleEndian.PutUint32(key[:], k)
		Mask(key, 0, b[:h]) // h < 64: Mask's short path
		b = b[h:]
		k = bits.RotateLeft32(k, -8*h)
	}
	n := len(b) &^ 31
	maskAVX2(&b[0], n, uint64(k)<<32|uint64(k))
	return b[n:], k // n is a multiple of 4: the key offset is unchanged
}
