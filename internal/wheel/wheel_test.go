package wheel

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// item is an element with its entry embedded, as the engine's Conn has.
type item struct {
	id   int
	node Node[item]
}

func nodeOf(x *item) *Node[item] { return &x.node }

const res = 10 * time.Millisecond

// newTest is a wheel with a fixed start, so that times are exact.
func newTest() (*Wheel[item], time.Time) {
	w := New(res, nodeOf)
	return w, w.start
}

func ids(xs []*item) []int {
	var out []int
	for _, x := range xs {
		out = append(out, x.id)
	}
	slices.Sort(out)
	return out
}

// TestWheel: what fires at each Advance, for schedules, moves, cancels, ticks
// already processed and deadlines beyond one revolution.
func TestWheel(t *testing.T) {
	t.Parallel()
	type op struct {
		kind string // "sched", "cancel", "adv"
		id   int
		tick int64 // sched: the tick armed; adv: the tick advanced to (as a time)
		want []int // adv: ids fired
	}
	tests := []struct {
		name string
		ops  []op
	}{
		{"fires once its tick begins", []op{
			{"sched", 1, 3, nil}, {"adv", 0, 2, nil}, {"adv", 0, 3, []int{1}}, {"adv", 0, 4, nil},
		}},
		{"same tick, same slot", []op{
			{"sched", 1, 5, nil}, {"sched", 2, 5, nil}, {"sched", 3, 6, nil}, {"adv", 0, 5, []int{1, 2}}, {"adv", 0, 9, []int{3}},
		}},
		{"reschedule moves the one entry", []op{
			{"sched", 1, 2, nil}, {"sched", 1, 7, nil}, {"adv", 0, 6, nil}, {"adv", 0, 7, []int{1}},
		}},
		{"reschedule earlier", []op{
			{"sched", 1, 9, nil}, {"sched", 1, 2, nil}, {"adv", 0, 2, []int{1}}, {"adv", 0, 9, nil},
		}},
		{"cancel", []op{
			{"sched", 1, 2, nil}, {"sched", 2, 2, nil}, {"cancel", 1, 0, nil}, {"cancel", 1, 0, nil}, {"adv", 0, 3, []int{2}},
		}},
		{"cancel unscheduled", []op{{"cancel", 1, 0, nil}, {"adv", 0, 3, nil}}},
		{"past tick: the next one", []op{
			{"adv", 0, 4, nil}, {"sched", 1, 2, nil}, {"sched", 2, 0, nil}, {"adv", 0, 4, nil}, {"adv", 0, 5, []int{1, 2}},
		}},
		{"beyond a revolution waits its turn", []op{
			{"sched", 1, Slots + 3, nil}, {"sched", 2, 3, nil}, {"adv", 0, 3, []int{2}}, {"adv", 0, Slots + 2, nil}, {"adv", 0, Slots + 3, []int{1}},
		}},
		{"long pause catches up", []op{
			{"sched", 1, 1, nil}, {"sched", 2, 500, nil}, {"sched", 3, 1000, nil}, {"adv", 0, 10 * Slots, []int{1, 2, 3}},
		}},
		{"middle of a list", []op{
			{"sched", 1, 4, nil}, {"sched", 2, 4, nil}, {"sched", 3, 4, nil}, {"cancel", 2, 0, nil}, {"adv", 0, 4, []int{1, 3}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w, start := newTest()
			items := map[int]*item{}
			get := func(id int) *item {
				if items[id] == nil {
					items[id] = &item{id: id}
				}
				return items[id]
			}
			for i, o := range tc.ops {
				switch o.kind {
				case "sched":
					w.Schedule(get(o.id), o.tick)
				case "cancel":
					w.Cancel(get(o.id))
				case "adv":
					got := ids(w.Advance(start.Add(time.Duration(o.tick) * res)))
					if !slices.Equal(got, o.want) {
						t.Fatalf("op %d: advance to tick %d fired %v, want %v", i, o.tick, got, o.want)
					}
					if w.Now() != o.tick {
						t.Fatalf("op %d: Now %d, want %d", i, w.Now(), o.tick)
					}
				}
			}
			for _, x := range items {
				if n := x.node; n.when == 0 && (n.next != nil || n.prev != nil) {
					t.Fatalf("item %d unscheduled with links", x.id)
				}
			}
		})
	}
}

func TestTicks(t *testing.T) {
	t.Parallel()
	w, start := newTest()
	tests := []struct {
		name string
		got  int64
		want int64
	}{
		{"Ticks rounds up", w.Ticks(res + 1), 2},
		{"Ticks exact", w.Ticks(3 * res), 3},
		{"Ticks at least 1", w.Ticks(0), 1},
		{"Ticks negative", w.Ticks(-time.Second), 1},
		{"At a boundary", w.At(start.Add(2 * res)), 2},
		{"At inside a tick", w.At(start.Add(2*res + 1)), 3},
		{"At before start", w.At(start.Add(-time.Second)), 0},
		{"Tick inside", w.Tick(start.Add(2*res + res/2)), 2},
		{"After adds Slack", w.After(10, 3*res), 10 + 3 + Slack},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, tc.got, tc.want)
		}
	}
	if got := w.Publish(start.Add(5 * res)); got != 5 {
		t.Fatalf("Publish: %d", got)
	}
	if got := w.Publish(start.Add(3 * res)); got != 5 {
		t.Fatalf("Publish went back: %d", got)
	}
	if got := w.UntilNext(start.Add(res / 2)); got < 1 || got > int(res/time.Millisecond)+1 {
		t.Fatalf("UntilNext: %d ms", got)
	}
}

// TestNeverEarly is the property the engine relies on: an entry armed with
// At(t) fires at t or later, and one armed with After(rec, d), where rec is
// the tick an event at te was recorded in (its own, or one behind, as a
// lagging Now reads), fires at te+d or later. Advances come at random times
// at most two ticks apart, and every entry fires within a few ticks of its
// time (Slack and that gap).
func TestNeverEarly(t *testing.T) {
	t.Parallel()
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		w, start := newTest()
		items := make([]item, 300)
		dues := make([]time.Duration, len(items)) // must not fire before start+dues[i]
		now, last := time.Duration(0), time.Duration(0)
		for i := range items {
			items[i].id = i
			te := now + time.Duration(rng.Int64N(int64(res))) // an event about now
			d := time.Duration(rng.Int64N(int64(50 * res)))
			if i%2 == 0 {
				w.Schedule(&items[i], w.At(start.Add(te+d)))
			} else {
				rec := max(w.Tick(start.Add(te))-rng.Int64N(2), 0)
				w.Schedule(&items[i], w.After(rec, d))
			}
			dues[i] = te + d
			last = max(last, te+d)
			if i%10 == 9 {
				now += time.Duration(rng.Int64N(int64(2 * res)))
				fire(t, w, start, now, dues)
			}
		}
		for now <= last+lateBound {
			now += time.Duration(rng.Int64N(int64(2 * res)))
			fire(t, w, start, now, dues)
		}
		for i := range items {
			if items[i].node.when != 0 {
				t.Fatalf("seed %d: item %d (due %v) never fired by %v", seed, i, dues[i], now)
			}
		}
	}
}

// lateBound is how late TestNeverEarly lets an entry fire: the rounding up
// to a tick boundary (one), Slack for After (two), and the gap between
// advances (two).
const lateBound = (1 + Slack + 2) * res

// fire advances w to start+now and checks what fired against dues.
func fire(t *testing.T, w *Wheel[item], start time.Time, now time.Duration, dues []time.Duration) {
	t.Helper()
	for _, x := range w.Advance(start.Add(now)) {
		if due := dues[x.id]; now < due {
			t.Fatalf("item %d fired at %v, before its time %v", x.id, now, due)
		} else if now > due+lateBound {
			t.Fatalf("item %d fired at %v, due %v: later than %v", x.id, now, due, lateBound)
		}
	}
}

// TestZeroAllocs: Schedule, Cancel and Advance allocate nothing once
// Advance's slice has grown. (Not parallel: AllocsPerRun.)
func TestZeroAllocs(t *testing.T) {
	w, start := newTest()
	items := make([]item, 64)
	tick := int64(0)
	round := func() {
		tick++
		for i := range items {
			w.Schedule(&items[i], tick+int64(i%3))
		}
		w.Cancel(&items[0])
		w.Advance(start.Add(time.Duration(tick+2) * res))
	}
	round()
	if n := testing.AllocsPerRun(100, round); n != 0 {
		t.Fatalf("%v allocs per round", n)
	}
}

// BenchmarkWheel: one connection re-armed and one deadline fired per op, as a
// loop does for keepalive checks.
func BenchmarkWheel(b *testing.B) {
	w, start := newTest()
	items := make([]item, 1024)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		x := &items[i&1023]
		tick := int64(i/1024) + 1
		w.Schedule(x, tick+1)
		if i&1023 == 1023 {
			w.Advance(start.Add(time.Duration(tick+1) * res))
		}
	}
}
