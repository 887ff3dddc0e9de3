package tlsrec

import (
	"crypto/tls"
	"math"
	"testing"
)

func BenchmarkSeal(b *testing.B) {
	for _, n := range []int{125, 16384} {
		b.Run(itoa(n), func(b *testing.B) {
			w, _ := NewWriter(testKeys(tls.TLS_AES_128_GCM_SHA256))
			p := make([]byte, n)
			dst := make([]byte, 0, SealedLen(n))
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				dst, _ = w.AppendSeal(dst[:0], p)
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, n := range []int{125, 16384} {
		b.Run(itoa(n), func(b *testing.B) {
			w, r := pair(b, tls.TLS_AES_128_GCM_SHA256, ReaderOptions{})
			w.SetAutoUpdate(math.MaxUint32)
			p := make([]byte, n)
			buf := make([]byte, SealedLen(n))
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				// Re-seal outside the measured Open would need a timer stop;
				// instead seal into buf each round (Seal is measured above).
				buf, _ = w.AppendSeal(buf[:0], p)
				if _, err := r.Decrypt(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func itoa(n int) string {
	if n == 125 {
		return "125B"
	}
	return "16KiB"
}

// BenchmarkRebuild is what laziness costs a record when the AEAD was dropped
// (idle.go): Drop, then seal 64 bytes (which builds the AEAD again) or open
// one. Against BenchmarkSeal/BenchmarkOpen it prices IdleAfter: a direction
// pays it at most once per burst, and only after IdleAfter without a burst.
func BenchmarkRebuild(b *testing.B) {
	for _, suite := range []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384} {
		name := map[uint16]string{tls.TLS_AES_128_GCM_SHA256: "AES128", tls.TLS_AES_256_GCM_SHA384: "AES256"}[suite]
		p := make([]byte, 64)
		b.Run(name+"/seal64-kept", func(b *testing.B) {
			w, _ := NewWriter(testKeys(suite))
			dst := make([]byte, 0, SealedLen(64))
			b.ReportAllocs()
			for b.Loop() {
				dst, _ = w.AppendSeal(dst[:0], p)
			}
		})
		b.Run(name+"/seal64-dropped", func(b *testing.B) {
			w, _ := NewWriter(testKeys(suite))
			dst := make([]byte, 0, SealedLen(64))
			b.ReportAllocs()
			for b.Loop() {
				w.Drop()
				dst, _ = w.AppendSeal(dst[:0], p)
			}
		})
		b.Run(name+"/open64-dropped", func(b *testing.B) {
			w, r := pair(b, suite, ReaderOptions{})
			w.SetAutoUpdate(math.MaxUint32)
			buf := make([]byte, 0, SealedLen(64))
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = w.AppendSeal(buf[:0], p)
				r.Drop()
				if _, err := r.Decrypt(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/relax", func(b *testing.B) {
			w, _ := NewWriter(testKeys(suite))
			b.ReportAllocs()
			for b.Loop() {
				w.Relax()
			}
		})
	}
}

// BenchmarkKeyUpdateOpen prices what a peer's KeyUpdate costs the receiver
// against a record of data of the same size on the wire: "keyupdate" opens a
// KeyUpdate and a 1-byte data record (the data keeps the flood under
// maxUselessMessages), "data" two 1-byte data records. The streams are
// sealed with the timer stopped.
func BenchmarkKeyUpdateOpen(b *testing.B) {
	const batch = 1024
	for _, ku := range []bool{true, false} {
		name := map[bool]string{true: "keyupdate", false: "data"}[ku]
		b.Run(name, func(b *testing.B) {
			w, r := pair(b, tls.TLS_AES_128_GCM_SHA256, ReaderOptions{})
			w.SetAutoUpdate(math.MaxUint32)
			var stream []byte
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if i%batch == 0 {
					b.StopTimer()
					stream = stream[:0]
					for range batch {
						if ku {
							stream, _ = w.AppendKeyUpdate(stream, false)
						} else {
							stream, _ = w.AppendSeal(stream, []byte{1})
						}
						stream, _ = w.AppendSeal(stream, []byte{2})
					}
					b.StartTimer()
				}
				n := SealedLen(1)
				if ku {
					n = HeaderLen + 5 + Overhead
				}
				if _, err := r.Decrypt(stream[:n+SealedLen(1)]); err != nil {
					b.Fatal(err)
				}
				stream = stream[n+SealedLen(1):]
			}
		})
	}
}
