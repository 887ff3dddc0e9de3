package outq

import "testing"

// TestDonesTakeAfter: TakeAfter removes the completions past an offset, in
// order, and leaves those up to it for Take.
func TestDonesTakeAfter(t *testing.T) {
	t.Parallel()
	var d Dones
	for _, end := range []int64{10, 20, 30, Never} {
		d.Add(end, func(error) {})
	}
	if got := d.TakeAfter(Never); got != nil {
		t.Fatalf("TakeAfter(Never) = %v", got)
	}
	got := d.TakeAfter(20)
	if len(got) != 2 || got[0].End != 30 || got[1].End != Never {
		t.Fatalf("TakeAfter(20) = %v", got)
	}
	if got := d.Take(25); len(got) != 2 || got[1].End != 20 {
		t.Fatalf("Take(25) after TakeAfter = %v", got)
	}
	if got := d.All(); len(got) != 0 {
		t.Fatalf("left %v", got)
	}
}
