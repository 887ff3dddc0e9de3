package assemble

import (
	"bytes"
	"testing"
)

func TestKeep(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		chunks []string
		min    int
	}{
		{"one", []string{"abc"}, 0},
		{"min", []string{"a"}, 1024},
		{"grows", []string{"ab", string(bytes.Repeat([]byte{'x'}, 5000)), "cd"}, 0},
		{"empty first", []string{"", "abc"}, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf []byte
			var want []byte
			for i, ch := range tt.chunks {
				min := 0
				if i == 0 {
					min = tt.min
				}
				buf = Keep(buf, []byte(ch), min)
				want = append(want, ch...)
				if !bytes.Equal(buf, want) {
					t.Fatalf("after %d chunks: %q, want %q", i+1, buf, want)
				}
			}
			if cap(buf) < tt.min {
				t.Fatalf("cap %d under min %d", cap(buf), tt.min)
			}
		})
	}
}

// TestKeepCopies: the kept bytes are a copy, so the caller may reuse data.
func TestKeepCopies(t *testing.T) {
	t.Parallel()
	data := []byte("hello")
	buf := Keep(nil, data, 0)
	data[0] = 'j'
	if string(buf) != "hello" {
		t.Fatalf("kept %q: aliases the input", buf)
	}
}
