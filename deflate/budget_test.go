package deflate

import (
	"errors"
	"testing"

	"github.com/weir-ws/weir/bufpool"
)

// peakBudget is a Budget with a maximum that records the most it held.
type peakBudget struct{ n, max, peak int }

func (b *peakBudget) Charge(n int) bool {
	if b.n+n > b.max {
		return false
	}
	b.n += n
	b.peak = max(b.peak, b.n)
	return true
}

func (b *peakBudget) Refund(n int) { b.n -= n }

// TestDecompressBudget: the output's growth is charged before it is made, a
// refusal stops inflating with ErrBudget (1013) without passing the budget,
// and afterwards, success or not, the budget holds exactly the returned
// buffer's capacity (the caller charged dst's).
func TestDecompressBudget(t *testing.T) {
	t.Parallel()
	bomb, err := Compress(nil, make([]byte, 4<<20), 15, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		max  int
		err  error
	}{
		{"fits", 16 << 20, nil},
		{"refused", 1 << 20, ErrBudget},
	} {
		d := NewConn(Params{}, true, nil)
		b := &peakBudget{max: tc.max}
		dst := bufpool.Get(4096)[:0]
		b.Charge(cap(dst))
		out, err := d.DecompressBudget(dst, bomb, 0, b)
		if !errors.Is(err, tc.err) {
			t.Fatalf("%s: err %v, want %v", tc.name, err, tc.err)
		}
		if b.n != cap(out) || b.peak > tc.max {
			t.Fatalf("%s: charged %d (peak %d, max %d) for a buffer of %d", tc.name, b.n, b.peak, tc.max, cap(out))
		}
		if err == nil && len(out) != 4<<20 {
			t.Fatalf("%s: inflated %d bytes", tc.name, len(out))
		}
		bufpool.Put(out)
		d.Release()
	}
}
