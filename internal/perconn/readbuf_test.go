package perconn

import (
	"os"
	"testing"

	"github.com/weir-ws/weir/internal/leakcheck"
)

func TestMain(m *testing.M) {
	leakcheck.Run(m, nil, "github.com/weir-ws/weir/internal/perconn.")
	os.Exit(0) // not reached: Run exits
}

// The read buffer grows when a read fills it, stays big while reads are big,
// and shrinks after ShrinkAfter small reads in a row, not before.
func TestReadBufSizes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		reads []int // each read's size, clipped to the buffer's
		want  int   // the buffer's size after them
	}{
		{"idle", nil, SmallBuf},
		{"small reads stay small", []int{1, 100, SmallBuf - 1}, SmallBuf},
		{"a full small read grows it", []int{SmallBuf}, BigBuf},
		{"big reads keep it big", []int{SmallBuf, BigBuf, SmallBuf + 1, BigBuf}, BigBuf},
		{"fewer small reads than ShrinkAfter keep it big", append([]int{SmallBuf}, repeat(10, ShrinkAfter-1)...), BigBuf},
		{"ShrinkAfter small reads shrink it", append([]int{SmallBuf}, repeat(10, ShrinkAfter)...), SmallBuf},
		{"a big read restarts the count", append(append([]int{SmallBuf}, repeat(10, ShrinkAfter-1)...), append([]int{SmallBuf + 1}, repeat(10, ShrinkAfter-1)...)...), BigBuf},
		{"and grows again", append(append([]int{SmallBuf}, repeat(10, ShrinkAfter)...), SmallBuf), BigBuf},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newReadBuf()
			defer r.release()
			for _, n := range tc.reads {
				r.read(min(n, len(r.b)))
			}
			if len(r.b) != tc.want {
				t.Fatalf("buffer is %d bytes, want %d", len(r.b), tc.want)
			}
		})
	}
}

func repeat(n, times int) []int {
	s := make([]int, times)
	for i := range s {
		s[i] = n
	}
	return s
}

// Moving between the sizes allocates nothing (bufpool).
func TestReadBufNoAllocs(t *testing.T) {
	r := newReadBuf()
	defer r.release()
	r.read(SmallBuf) // warm both pools
	for range ShrinkAfter {
		r.read(1)
	}
	allocs := testing.AllocsPerRun(100, func() {
		r.read(SmallBuf)
		for range ShrinkAfter {
			r.read(1)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per grow and shrink, want 0", allocs)
	}
}
