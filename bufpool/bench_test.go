package bufpool

import (
	"fmt"
	"testing"
)

var benchSizes = []int{64, 4 << 10, 64 << 10}

func BenchmarkGetPut(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Put(Get(n))
			}
		})
	}
}

func BenchmarkGetPutParallel(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					Put(Get(n))
				}
			})
		})
	}
}

// BenchmarkMake is the baseline the pool is measured against: a fresh
// (zeroed) heap buffer of the same size per operation.
func BenchmarkMake(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			var sink []byte
			for b.Loop() {
				sink = make([]byte, n)
			}
			_ = sink
		})
	}
}

// BenchmarkGrow appends 64 KiB in 1 KiB steps to an empty buffer, moving
// through the classes 1 KiB ... 64 KiB, then returns it.
func BenchmarkGrow(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(64 << 10)
	chunk := make([]byte, 1<<10)
	for b.Loop() {
		var buf []byte
		for len(buf) < 64<<10 {
			buf = Grow(buf, len(chunk))
			buf = append(buf, chunk...)
		}
		Put(buf)
	}
}
