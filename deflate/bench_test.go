package deflate

import (
	"fmt"
	"testing"

	"github.com/klauspost/compress/flate"

	"github.com/weir-ws/weir/bufpool"
)

// benchMessages are distinct JSON-like messages sharing keys and vocabulary,
// sent in rotation so context takeover helps as it would on a real stream but
// never sees the same message twice in a row.
func benchMessages(size int) [][]byte {
	msgs := make([][]byte, 64)
	for i := range msgs {
		msgs[i] = jsonText(int64(size*100+i), size)
	}
	return msgs
}

var benchModes = []struct {
	name string
	p    Params
}{
	{"takeover", Params{}},
	{"no-takeover", Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
}

func BenchmarkCompress(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		msgs := benchMessages(size)
		for _, mode := range benchModes {
			b.Run(fmt.Sprintf("%dKiB/%s", size>>10, mode.name), func(b *testing.B) {
				c := NewConn(mode.p, true, nil)
				defer c.Release()
				dst := make([]byte, 0, 2*size)
				var in, out int
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					z, err := c.Compress(dst[:0], msgs[i%len(msgs)])
					if err != nil {
						b.Fatal(err)
					}
					in, out = in+size, out+len(z)
				}
				b.ReportMetric(float64(out)/float64(in), "ratio")
			})
		}
	}
}

func BenchmarkDecompress(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		msgs := benchMessages(size)
		for _, mode := range benchModes {
			b.Run(fmt.Sprintf("%dKiB/%s", size>>10, mode.name), func(b *testing.B) {
				// One cycle of compressed messages, from an empty history;
				// the receiver restarts from an empty history with each cycle.
				sender := NewConn(mode.p, false, nil)
				zs := make([][]byte, len(msgs))
				for i, m := range msgs {
					zs[i], _ = sender.Compress(nil, m)
				}
				sender.Release()
				c := NewConn(mode.p, true, nil)
				defer c.Release()
				dst := make([]byte, 0, size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					k := i % len(zs)
					if k == 0 {
						c.Reset(mode.p, true, nil)
					}
					if _, err := c.Decompress(dst[:0], zs[k], int64(size)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// countBudget is a Budget without a cap that counts what it holds.
type countBudget struct{ n int }

func (b *countBudget) Charge(n int) bool { b.n += n; return true }
func (b *countBudget) Refund(n int)      { b.n -= n }

// BenchmarkDecompressGrow inflates 1 MiB of JSON-like text into a pooled
// buffer given back after, so the output's growth is part of the cost, as
// assemble.Inflate starts and grows it: "budget" as it does now
// (DecompressBudget from four times the input, at most 64 KiB, doubling, each
// growth charged first), "unbudgeted" as it did before the inbound budget
// covered inflation (Decompress from four times the input, then steps of as
// much again as was produced).
func BenchmarkDecompressGrow(b *testing.B) {
	const size = 1 << 20
	msg := jsonText(size, size)
	z, err := Compress(nil, msg, MaxWindowBits, nil)
	if err != nil {
		b.Fatal(err)
	}
	z = append([]byte(nil), z...)
	for _, budget := range []bool{false, true} {
		name := "1MiB/unbudgeted"
		if budget {
			name = "1MiB/budget"
		}
		b.Run(name, func(b *testing.B) {
			c := NewConn(Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, true, nil)
			defer c.Release()
			var bud countBudget
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				var out []byte
				var err error
				if budget {
					dst := bufpool.Get(min(4*len(z), 64<<10))[:0]
					bud.Charge(cap(dst))
					out, err = c.DecompressBudget(dst, z, 16<<20, &bud)
					bud.Refund(cap(out))
				} else {
					dst := bufpool.Get(max(4*len(z), 4096))[:0]
					out, err = c.Decompress(dst, z, 16<<20)
				}
				if err != nil || len(out) != size {
					b.Fatalf("%d bytes, %v", len(out), err)
				}
				bufpool.Put(out)
			}
			if bud.n != 0 {
				b.Fatalf("budget holds %d after every buffer was given back", bud.n)
			}
			b.ReportMetric(float64(len(z)), "in-B")
		})
	}
}

// BenchmarkLevel compares flate levels on the same messages without takeover:
// the basis for DefaultLevel.
func BenchmarkLevel(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		msgs := benchMessages(size)
		for level := flate.BestSpeed; level <= flate.BestCompression; level++ {
			b.Run(fmt.Sprintf("%dKiB/L%d", size>>10, level), func(b *testing.B) {
				dst := make([]byte, 0, 2*size)
				var in, out int
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					z, _ := Compress(dst[:0], msgs[i%len(msgs)], 15, &Options{Level: level})
					in, out = in+size, out+len(z)
				}
				b.ReportMetric(float64(out)/float64(in), "ratio")
			})
		}
	}
}

// BenchmarkThreshold measures small messages, with and without takeover:
// the basis for DefaultThreshold.
func BenchmarkThreshold(b *testing.B) {
	for _, size := range []int{32, 64, 128, 256, 512, 1024} {
		msgs := benchMessages(size)
		for _, mode := range benchModes {
			b.Run(fmt.Sprintf("%dB/%s", size, mode.name), func(b *testing.B) {
				c := NewConn(mode.p, true, nil)
				defer c.Release()
				dst := make([]byte, 0, 4*size+64)
				var in, out int
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					z, _ := c.Compress(dst[:0], msgs[i%len(msgs)])
					in, out = in+size, out+len(z)
				}
				b.ReportMetric(float64(out)/float64(in), "ratio")
			})
		}
	}
}

// BenchmarkHistory measures the cost and gain of the compressor's history
// under takeover: the basis for DefaultHistorySize.
func BenchmarkHistory(b *testing.B) {
	for _, size := range []int{256, 1 << 10, 8 << 10} {
		msgs := benchMessages(size)
		for _, hist := range []int{1 << 10, 4 << 10, 8 << 10, 16 << 10, 32 << 10} {
			b.Run(fmt.Sprintf("%dB/history%dKiB", size, hist>>10), func(b *testing.B) {
				c := NewConn(Params{}, true, &Options{HistorySize: hist})
				defer c.Release()
				dst := make([]byte, 0, 2*size+64)
				var in, out int
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					z, _ := c.Compress(dst[:0], msgs[i%len(msgs)])
					in, out = in+size, out+len(z)
				}
				b.ReportMetric(float64(out)/float64(in), "ratio")
			})
		}
	}
}

// BenchmarkIdleConnHeap reports the Go heap held per idle connection after
// one message each way, over 10,000 Conns (see idleConnHeap).
func BenchmarkIdleConnHeap(b *testing.B) {
	for _, tt := range idleCases {
		b.Run(tt.name, func(b *testing.B) {
			var per float64
			for b.Loop() {
				per = idleConnHeap(b, tt.p, tt.size, 10_000)
			}
			b.ReportMetric(per, "B/conn")
		})
	}
}
