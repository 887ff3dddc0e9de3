package prepared

import (
	"bytes"
	"sync"
	"testing"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
)

func TestMessageFrame(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 125, 126, 65535, 65536} {
		p := bytes.Repeat([]byte{'a'}, n)
		m := New(frame.OpBinary, p)
		if n > 0 {
			p[0] = 'b' // the message keeps its own copy
		}
		h, hn, err := frame.ParseHeader(m.Frame())
		if err != nil || !h.Fin || h.Opcode != frame.OpBinary || h.Masked || h.Length != int64(n) {
			t.Fatalf("%d bytes: header %+v, %v", n, h, err)
		}
		if !bytes.Equal(m.Frame()[hn:], bytes.Repeat([]byte{'a'}, n)) || !bytes.Equal(m.Payload(), m.Frame()[hn:]) {
			t.Fatalf("%d bytes: payload differs", n)
		}
		if m.Opcode() != frame.OpBinary {
			t.Fatal("opcode")
		}
	}
}

// TestMessageCompressed checks that a compressed frame inflates back to the
// payload, is made once per window size, and is safe to ask for from many
// goroutines (run with -race).
func TestMessageCompressed(t *testing.T) {
	t.Parallel()
	payload := bytes.Repeat([]byte("weir prepared message "), 200)
	m := New(frame.OpText, payload)
	var wg sync.WaitGroup
	got := make([][]byte, 8)
	for i := range got {
		wg.Go(func() {
			f, err := m.Compressed(9+i%2*6, nil)
			if err != nil {
				t.Error(err)
			}
			got[i] = f
		})
	}
	wg.Wait()
	for i, f := range got {
		if &f[0] != &got[i%2][0] {
			t.Fatalf("call %d made its own frame", i)
		}
		h, hn, err := frame.ParseHeader(f)
		if err != nil || h.Rsv != frame.Rsv1 || h.Opcode != frame.OpText || int(h.Length) != len(f)-hn {
			t.Fatalf("header %+v, %v", h, err)
		}
		p, err := deflate.Decompress(nil, f[hn:], 1<<20)
		if err != nil || !bytes.Equal(p, payload) {
			t.Fatalf("window %d: inflated %d bytes, %v", 9+i%2*6, len(p), err)
		}
	}
}

func BenchmarkCompressedCached(b *testing.B) {
	m := New(frame.OpText, bytes.Repeat([]byte("x"), 1000))
	m.Compressed(15, nil)
	b.ReportAllocs()
	for b.Loop() {
		m.Compressed(15, nil)
	}
}
