package wsread

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/weir-ws/weir/frame"
)

// countBudget counts what Readers hold; a positive max refuses growth past it.
type countBudget struct {
	n   atomic.Int64
	max int64
}

func (b *countBudget) Charge(n int) bool {
	if b.max > 0 && b.n.Load()+int64(n) > b.max {
		return false
	}
	b.n.Add(int64(n))
	return true
}

func (b *countBudget) Refund(n int) {
	if b.n.Add(-int64(n)) < 0 {
		panic("budget refunded more than it was charged")
	}
}

// TestBudget: a partial frame's buffer is charged as it grows, by Next and by
// ReadSpace; a growth past the budget fails the Reader with ErrBudget (1013)
// and leaves nothing charged; a delivered frame's buffer is refunded.
func TestBudget(t *testing.T) {
	t.Parallel()
	for _, direct := range []bool{false, true} {
		b := &countBudget{max: 64 << 10}
		lim := defLim
		lim.Budget = b
		var r Reader
		r.Start(&lim, false, false)
		// A small frame cut in two is charged, then refunded once delivered.
		in := enc(true, frame.OpBinary, 0, make([]byte, 1000), true)
		if _, _, err := r.Next(&lim, in[:500]); err != nil {
			t.Fatal(err)
		}
		if b.n.Load() != int64(r.Held()) || r.Held() == 0 {
			t.Fatalf("charged %d, held %d", b.n.Load(), r.Held())
		}
		if ev, _, err := r.Next(&lim, in[500:]); err != nil || ev.Kind != EvFrame {
			t.Fatalf("Next: %v %v", ev.Kind, err)
		}
		r.Next(&lim, nil)
		if b.n.Load() != 0 {
			t.Fatalf("charged %d after delivery", b.n.Load())
		}
		// A large frame grows until the budget refuses.
		big := enc(true, frame.OpBinary, 0, make([]byte, 1<<20), true)
		var err error
		for off := 0; err == nil && off < len(big); {
			if direct {
				var room []byte
				room, err = r.ReadSpace(&lim, 4096)
				if room != nil {
					k := copy(room, big[off:])
					off += k
					err = r.Commit(k)
					continue
				}
				if err != nil {
					break
				}
			}
			if b.n.Load() > b.max {
				t.Fatalf("charged %d past the budget %d", b.n.Load(), b.max)
			}
			end := min(off+4096, len(big))
			var n int
			_, n, err = r.Next(&lim, big[off:end])
			off += n
		}
		if !errors.Is(err, ErrBudget) {
			t.Fatalf("direct=%v: err %v, want ErrBudget", direct, err)
		}
		var pe *frame.ProtocolError
		if !errors.As(err, &pe) || pe.Code != frame.StatusTryAgainLater {
			t.Fatalf("close code of %v", err)
		}
		if b.n.Load() != 0 || r.Held() != 0 {
			t.Fatalf("after refusal: charged %d, held %d", b.n.Load(), r.Held())
		}
		r.Release(&lim)
		if b.n.Load() != 0 {
			t.Fatalf("charged %d after Release", b.n.Load())
		}
	}
}

func TestTotal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		max  int64
		ask  []int
		ok   []bool
	}{
		{"unbounded", 0, []int{1 << 40, 5}, []bool{true, true}},
		{"bounded", 100, []int{60, 50, 40, 1}, []bool{true, false, true, false}},
		// 1 MiB: a reserve of 128 KiB that growths over 64 KiB cannot take.
		{"reserve", 1 << 20, []int{896<<10 + 1, 896 << 10, SmallGrowth + 1, SmallGrowth, SmallGrowth, 1},
			[]bool{false, true, false, true, true, false}},
		{"reserve capped", 1 << 30, []int{1<<30 - 8<<20 + 1, 1<<30 - 8<<20, 8 << 20},
			[]bool{false, true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tot := &Total{Max: tc.max}
			var want int64
			for i, n := range tc.ask {
				if got := tot.Charge(n); got != tc.ok[i] {
					t.Fatalf("Charge(%d) = %v", n, got)
				}
				if tc.ok[i] {
					want += int64(n)
				}
				if tot.Load() != want {
					t.Fatalf("Load %d, want %d", tot.Load(), want)
				}
			}
			tot.Refund(int(want))
			if tot.Load() != 0 {
				t.Fatalf("Load %d after refunds", tot.Load())
			}
		})
	}
}

// TestTotalNeverPasses charges from many goroutines at once and checks the
// count never passes Max, even for a moment (run with -race).
func TestTotalNeverPasses(t *testing.T) {
	t.Parallel()
	tot := &Total{Max: 1000}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 2000 {
				if tot.Charge(7) {
					if n := tot.Load(); n > 1000 {
						t.Errorf("count %d over the maximum", n)
					}
					tot.Refund(7)
				}
			}
		})
	}
	wg.Wait()
}
