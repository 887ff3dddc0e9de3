package frame

import (
	"strings"
	"testing"
	"unicode/utf8"
)

var benchHeaders = []struct {
	name string
	h    Header
}{
	{"2B", Header{Fin: true, Opcode: OpText, Length: 100}},
	{"6B-masked", Header{Fin: true, Opcode: OpText, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: 100}},
	{"8B-len16-masked", Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: 4096}},
	{"10B-len64", Header{Fin: true, Opcode: OpBinary, Length: 1 << 20}},
	{"14B-len64-masked", Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: 1 << 20}},
}

func BenchmarkParseHeader(b *testing.B) {
	for _, bh := range benchHeaders {
		wire := AppendHeader(nil, bh.h)
		b.Run(bh.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := ParseHeader(wire); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendHeader(b *testing.B) {
	dst := make([]byte, 0, MaxHeaderSize)
	for _, bh := range benchHeaders {
		b.Run(bh.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				dst = AppendHeader(dst[:0], bh.h)
			}
		})
	}
}

func BenchmarkPutHeader(b *testing.B) {
	var buf [MaxHeaderSize]byte
	for _, bh := range benchHeaders {
		b.Run(bh.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				PutHeader(buf[:], bh.h)
			}
		})
	}
}

// BenchmarkMask puts Mask beside the reference byte loop, a plain 8-byte
// word loop and the pure-Go path at each size so the ratios show in one run.
// "weir+3" masks a payload that starts 3 bytes into its buffer, as one
// behind a frame header does.
func BenchmarkMask(b *testing.B) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	impls := []struct {
		name string
		fn   func([4]byte, int, []byte) int
		off  int
	}{
		{"naive", maskNaive, 0},
		{"word", maskWord, 0},
		{"generic", maskGeneric, 0},
		{"weir", Mask, 0},
		{"weir+3", Mask, 3},
	}
	for _, size := range []struct {
		name string
		n    int
	}{{"16B", 16}, {"125B", 125}, {"1KiB", 1 << 10}, {"16KiB", 16 << 10}, {"1MiB", 1 << 20}} {
		for _, impl := range impls {
			buf := make([]byte, size.n+impl.off)[impl.off:]
			b.Run(size.name+"/"+impl.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(size.n))
				for b.Loop() {
					impl.fn(key, 1, buf)
				}
			})
		}
	}
}

// utf8Inputs builds deterministic texts of the given size from a sample,
// cut at a character boundary.
func utf8Input(sample string, n int) []byte {
	s := strings.Repeat(sample, n/len(sample)+1)[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return []byte(s)
}

var utf8Inputs = []struct {
	name string
	p    []byte
}{
	{"ascii-64B", utf8Input("The quick brown fox jumps over the lazy dog. ", 64)},
	{"ascii-1KiB", utf8Input("The quick brown fox jumps over the lazy dog. ", 1<<10)},
	{"ascii-64KiB", utf8Input("The quick brown fox jumps over the lazy dog. ", 64<<10)},
	{"latin-1KiB", utf8Input("Voix ambiguë d'un cœur qui, au zéphyr, préfère les jattes de kiwis. ", 1<<10)},
	{"greek-1KiB", utf8Input("Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. ", 1<<10)},
	{"cjk-1KiB", utf8Input("いろはにほへと ちりぬるを わかよたれそ 色は匂へど散りぬるを", 1<<10)},
	{"emoji-1KiB", utf8Input("😀😃😄😁 🚀🌍 ok ", 1<<10)},
	{"mixed-64KiB", utf8Input("Hello, wörld! Ξεσκεπάζω 色は匂へど 🚀 plain ascii text here. ", 64<<10)},
}

// BenchmarkUTF8 runs utf8.Valid, ValidUTF8 and the incremental validator
// side by side on each input.
func BenchmarkUTF8(b *testing.B) {
	for _, in := range utf8Inputs {
		b.Run(in.name+"/utf8.Valid", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.p)))
			for b.Loop() {
				if !utf8.Valid(in.p) {
					b.Fatal("invalid")
				}
			}
		})
		b.Run(in.name+"/ValidUTF8", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.p)))
			for b.Loop() {
				if !ValidUTF8(in.p) {
					b.Fatal("invalid")
				}
			}
		})
		b.Run(in.name+"/Validator", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.p)))
			var v UTF8Validator
			for b.Loop() {
				v.Reset()
				if !v.Write(in.p) || !v.Complete() {
					b.Fatal("invalid")
				}
			}
		})
	}
}

func BenchmarkParseClose(b *testing.B) {
	for _, in := range []struct {
		name string
		p    []byte
	}{
		{"empty", nil},
		{"code", []byte{0x03, 0xE8}},
		{"reason-20B", []byte("\x03\xE9server going away")},
		{"reason-123B", append([]byte{0x03, 0xE8}, strings.Repeat("é", 61)+"x"...)},
	} {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := ParseClose(in.p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendClose(b *testing.B) {
	dst := make([]byte, 0, MaxControlPayload)
	for _, in := range []struct {
		name   string
		reason string
	}{
		{"code", ""},
		{"reason-20B", "server going away.."},
		{"reason-123B", strings.Repeat("é", 61) + "x"},
	} {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if dst, err = AppendClose(dst[:0], StatusGoingAway, in.reason); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
