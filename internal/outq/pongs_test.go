package outq

import (
	"bytes"
	"testing"

	"github.com/weir-ws/weir/frame"
)

// frames parses b into the payloads of the pong frames it holds (unmasking).
func frames(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	for len(b) > 0 {
		h, n, err := frame.ParseHeader(b)
		if err != nil || h.Opcode != frame.OpPong || !h.Fin {
			t.Fatalf("bad pong frame: %+v, %v", h, err)
		}
		p := append([]byte(nil), b[n:n+int(h.Length)]...)
		if h.Masked {
			frame.Mask(h.Mask, 0, p)
		}
		out = append(out, string(p))
		b = b[n+int(h.Length):]
	}
	return out
}

func TestPongs(t *testing.T) {
	t.Parallel()
	big := string(bytes.Repeat([]byte{'x'}, frame.MaxControlPayload))
	for _, tc := range []struct {
		name   string
		adds   []string
		latest []bool
		masked bool
		want   []string
	}{
		{"batched in order", []string{"a", "b", ""}, []bool{false, false, false}, false, []string{"a", "b", ""}},
		{"masked", []string{"a", "bc"}, []bool{false, false}, true, []string{"a", "bc"}},
		{"latest only when full", []string{"a", "b", "c"}, []bool{false, true, false}, false, []string{"b", "c"}},
		{"8 of the largest fit", []string{big, big, big, big, big, big, big, big}, make([]bool, 8), false, []string{big, big, big, big, big, big, big, big}},
		{"past the batch keeps the latest", []string{big, big, big, big, big, big, big, big, big, "z"}, make([]bool, 10), false, []string{big, "z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := GetPongs()
			defer PutPongs(p)
			for i, s := range tc.adds {
				p.Add([]byte(s), tc.masked, [4]byte{1, 2, 3, 4}, tc.latest[i])
			}
			got := frames(t, p.Bytes())
			if len(got) != len(tc.want) || p.Frames() != len(tc.want) || p.Len() != len(p.Bytes()) {
				t.Fatalf("got %d frames (%d counted), want %d", len(got), p.Frames(), len(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("frame %d: %q, want %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestPongsBounded floods a batch with pings of every size and checks it never
// holds more than Batch bytes and always ends with the latest.
func TestPongsBounded(t *testing.T) {
	t.Parallel()
	p := GetPongs()
	defer PutPongs(p)
	for i := range 10000 {
		n := i % (frame.MaxControlPayload + 1)
		p.Add(bytes.Repeat([]byte{byte(i)}, n), i%2 == 0, [4]byte{9, 9, 9, 9}, false)
		if p.Len() > Batch {
			t.Fatalf("batch holds %d bytes", p.Len())
		}
		f := frames(t, p.Bytes())
		if last := f[len(f)-1]; len(last) != n || (n > 0 && last[0] != byte(i)) {
			t.Fatalf("ping %d: the latest pong is not last", i)
		}
	}
}

func BenchmarkPongsAdd(b *testing.B) {
	p := GetPongs()
	payload := []byte("keepalive")
	b.ReportAllocs()
	for b.Loop() {
		p.Add(payload, true, [4]byte{1, 2, 3, 4}, false)
	}
}
