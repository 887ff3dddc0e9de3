package frame

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// maskWord is the plain 8-byte loop, a baseline for BenchmarkMask: Mask must
// beat it on long payloads and not lose to it on short ones.
func maskWord(key [4]byte, pos int, b []byte) int {
	pos &= 3
	k := bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*pos)
	k64 := uint64(k)<<32 | uint64(k)
	n := len(b)
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= byte(k)
		k = bits.RotateLeft32(k, -8)
	}
	return (pos + n) & 3
}

var maskImpls = []struct {
	name string
	fn   func([4]byte, int, []byte) int
}{
	{"Mask", Mask},
	{"maskGeneric", maskGeneric}, // the pure-Go path, also on amd64
	{"maskWord", maskWord},
}

// TestMaskNaive pins the reference itself to RFC 6455 §5.7's example.
func TestMaskNaive(t *testing.T) {
	t.Parallel()
	p := []byte("Hello")
	if pos := maskNaive([4]byte{0x37, 0xfa, 0x21, 0x3d}, 0, p); pos != 1 {
		t.Errorf("pos = %d, want 1", pos)
	}
	if want := []byte{0x7f, 0x9f, 0x4d, 0x51, 0x58}; !bytes.Equal(p, want) {
		t.Errorf("masked = % x, want % x", p, want)
	}
}

// checkMask compares fn with maskNaive on buf[off:off+n] from key offset
// pos, and checks that the bytes around the slice are left alone.
func checkMask(t *testing.T, name string, fn func([4]byte, int, []byte) int, key [4]byte, pos, off, n int, buf []byte) {
	t.Helper()
	got := bytes.Clone(buf)
	want := bytes.Clone(buf)
	gp := fn(key, pos, got[off:off+n])
	wp := maskNaive(key, pos, want[off:off+n])
	if gp != wp || !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && got[i] == want[i] {
			i++
		}
		t.Fatalf("%s(key=% x, pos=%d) on %d bytes at offset %d: pos %d, want %d; first difference at byte %d",
			name, key, pos, n, off, gp, wp, i)
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	buf := make([]byte, 8192+64)
	fill := rand.New(rand.NewPCG(1, 2))
	for i := range buf {
		buf[i] = byte(fill.Uint32())
	}
	for i, impl := range maskImpls {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(1, uint64(i))) // one per subtest: they run in parallel
			// Every length up to past the vector threshold, every key offset
			// (including pos > 3, of which only pos&3 counts) and a few
			// alignments.
			for n := 0; n <= 600; n++ {
				for pos := range 8 {
					key := [4]byte{byte(n), byte(pos), 0xA5, 0x3C}
					checkMask(t, impl.name, impl.fn, key, pos, (n+pos)%37, n, buf)
				}
			}
			// Long payloads at every alignment modulo 32 and every key offset.
			for _, n := range []int{2047, 2048, 2049, 4096 + 31, 8192} {
				for off := range 34 {
					for pos := range 4 {
						key := [4]byte{byte(rng.Uint32()), byte(off), byte(n), 0xFF}
						checkMask(t, impl.name, impl.fn, key, pos, off, n, buf)
					}
				}
			}
		})
	}
}

// TestMaskSplit unmasks a payload in random pieces, as reads deliver it,
// passing the returned offset on: the result must equal masking it whole.
func TestMaskSplit(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, impl := range maskImpls {
		for range 200 {
			key := [4]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())}
			p := make([]byte, rng.IntN(5000))
			for i := range p {
				p[i] = byte(rng.Uint32())
			}
			want := bytes.Clone(p)
			maskNaive(key, 0, want)
			pos := 0
			for rest := p; len(rest) > 0; {
				k := 1 + rng.IntN(min(len(rest), 700))
				pos = impl.fn(key, pos, rest[:k])
				rest = rest[k:]
			}
			if !bytes.Equal(p, want) || pos != len(p)&3 {
				t.Fatalf("%s: piecewise masking of %d bytes differs (pos %d)", impl.name, len(p), pos)
			}
			// Masking is its own inverse.
			impl.fn(key, 0, p)
			maskNaive(key, 0, want)
			if !bytes.Equal(p, want) {
				t.Fatalf("%s: unmasking does not restore the payload", impl.name)
			}
		}
	}
}

func TestMaskNoAlloc(t *testing.T) {
	b := make([]byte, 1<<16)
	key := [4]byte{1, 2, 3, 4}
	if n := testing.AllocsPerRun(20, func() {
		Mask(key, 1, b[3:])
		Mask(key, 2, b[:100])
	}); n != 0 {
		t.Errorf("Mask allocates %v times per run", n)
	}
}
