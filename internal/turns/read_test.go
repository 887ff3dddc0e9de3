package turns

import "testing"

// TestRead: a light turn stops at LightBytes, cutting its last read to fit,
// and then makes the connection heavy; a heavy or single-lane turn stops at
// MaxBytes or MaxReads without making it heavy; a heavy turn that read the
// socket dry with little read makes it light again, one that read much does
// not.
func TestRead(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		heavy, lanes bool
		read         int // bytes each read returns (the buffer: 64 KiB)
		reads, bytes int // where the turn stops
		nowHeavy     bool
	}{
		{"light, full reads", false, true, 64 << 10, 1, LightBytes, true},
		{"light, small reads", false, true, 1000, MaxReads, MaxReads * 1000, true},
		{"light, 10 KiB reads", false, true, 10 << 10, 4, LightBytes, true},
		{"heavy", true, true, 64 << 10, 2, MaxBytes, false},
		{"one lane", false, false, 64 << 10, 2, MaxBytes, false},
		{"one lane, small reads", false, false, 100, MaxReads, MaxReads * 100, false},
	} {
		tr := StartRead(tc.heavy, tc.lanes)
		buf := make([]byte, 64<<10)
		for {
			spent, heavy := tr.Spent()
			if spent {
				if heavy != tc.nowHeavy {
					t.Errorf("%s: heavy = %v", tc.name, heavy)
				}
				break
			}
			tr.Took(len(tr.Room(buf[:min(tc.read, len(buf))])))
		}
		if tr.reads != tc.reads || tr.got != tc.bytes {
			t.Errorf("%s: stopped after %d reads, %d bytes; want %d, %d", tc.name, tr.reads, tr.got, tc.reads, tc.bytes)
		}
	}
	for _, tc := range []struct {
		heavy bool
		got   int
		light bool
	}{
		{true, 0, true}, {true, LightBytes - 1, true}, {true, LightBytes, false}, {false, 0, false},
	} {
		tr := StartRead(tc.heavy, true)
		tr.Took(tc.got)
		if tr.Light() != tc.light {
			t.Errorf("heavy %v after %d bytes: Light = %v, want %v", tc.heavy, tc.got, !tc.light, tc.light)
		}
	}
}
