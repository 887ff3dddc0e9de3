package census

import (
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/internal/opmetrics"
)

// conn is a connection as a test engine keeps it.
type conn struct {
	st     opmetrics.Stats
	folded bool
}

// TestTotalsCountOnce: connections that end while totals are taken are
// counted exactly once, and the totals never go down.
func TestTotalsCountOnce(t *testing.T) {
	t.Parallel()
	const n = 200
	var c Census
	var mu sync.Mutex // the engine's table lock
	live := map[*conn]bool{}
	for range n {
		k := &conn{st: opmetrics.Stats{BytesIn: 1, MessagesIn: 1}}
		c.Join()
		live[k] = true
	}
	walk := func() (sum opmetrics.Stats) {
		mu.Lock()
		for k := range live {
			if !k.folded {
				sum.Add(k.st)
			}
		}
		mu.Unlock()
		return sum
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // connections end: fold, then leave the table, then Leave
		defer wg.Done()
		mu.Lock()
		list := make([]*conn, 0, n)
		for k := range live {
			list = append(list, k)
		}
		mu.Unlock()
		for _, k := range list {
			c.Fold(&k.folded, k.st)
			c.Fold(&k.folded, k.st) // a second fold counts nothing
			mu.Lock()
			delete(live, k)
			mu.Unlock()
			c.Leave(flag(false))
		}
	}()
	var last uint64
	for range 500 {
		st := c.Totals(walk)
		if st.BytesIn != n || st.MessagesIn != n {
			t.Fatalf("totals %+v: each of %d connections must count once", st.Stats, n)
		}
		if st.Closed < last {
			t.Fatalf("Closed went down: %d after %d", st.Closed, last)
		}
		last = st.Closed
	}
	wg.Wait()
	st := c.Totals(walk)
	if st.Opened != n || st.Closed != n || st.Conns != 0 || st.BytesIn != n {
		t.Fatalf("at the end: %+v", st)
	}
}

// TestTotalsAllocateNothing: a scrape's walk allocates nothing.
func TestTotalsAllocateNothing(t *testing.T) { // not parallel: AllocsPerRun counts the process
	var c Census
	k := &conn{st: opmetrics.Stats{BytesIn: 3}}
	walk := func() (sum opmetrics.Stats) {
		if !k.folded {
			sum.Add(k.st)
		}
		return sum
	}
	if n := testing.AllocsPerRun(50, func() { _ = c.Totals(walk) }); n != 0 {
		t.Fatalf("Totals allocates %v per call", n)
	}
}

// TestEmptied: the Leave of the last connection closes the channel while
// stopping, and only then.
func TestEmptied(t *testing.T) {
	t.Parallel()
	var c Census
	c.Join()
	c.Join()
	c.Leave(flag(false))
	c.Join()
	ch := c.Emptied()
	c.Leave(flag(true))
	select {
	case <-ch:
		t.Fatal("closed with a connection left")
	default:
	}
	c.Leave(flag(true))
	select {
	case <-ch:
	default:
		t.Fatal("not closed when the last connection left")
	}
	c.Join()
	c.Leave(flag(false)) // not stopping: nothing to close, nothing to panic on
}

// TestEmptiedTwice: two waiters at once (Shutdown, then Close during its
// wait) are both woken by the last Leave; a call after that gets a fresh
// channel. Before, the second call replaced the first's channel, which then
// never closed.
func TestEmptiedTwice(t *testing.T) {
	t.Parallel()
	var c Census
	c.Join()
	first, second := c.Emptied(), c.Emptied()
	c.Leave(flag(true))
	for i, ch := range []<-chan struct{}{first, second} {
		select {
		case <-ch:
		default:
			t.Fatalf("waiter %d not woken when the last connection left", i+1)
		}
	}
	c.Join()
	third := c.Emptied()
	select {
	case <-third:
		t.Fatal("a call after the close got a closed channel with a connection live")
	default:
	}
	c.Leave(flag(true))
	<-third
}

// TestAbort: Abort rescans until the connections are gone, returns when
// done closes, and gives up at its deadline.
func TestAbort(t *testing.T) {
	t.Parallel()
	t.Run("gone", func(t *testing.T) {
		t.Parallel()
		var c Census
		for range 3 {
			c.Join()
		}
		scans := 0
		ok := c.Abort(nil, func() { // one connection ends per scan
			scans++
			c.Leave(flag(true))
		}, time.Millisecond, time.Minute)
		if !ok || scans != 3 {
			t.Fatalf("Abort = %v after %d scans, want true after 3", ok, scans)
		}
	})
	t.Run("done", func(t *testing.T) {
		t.Parallel()
		var c Census
		c.Join()
		done := c.Emptied()
		if !c.Abort(done, func() { c.Leave(flag(true)) }, time.Minute, time.Minute) {
			t.Fatal("Abort = false after done closed")
		}
	})
	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		var c Census
		c.Join()
		if c.Abort(nil, func() {}, time.Millisecond, 20*time.Millisecond) {
			t.Fatal("Abort = true with a connection that never leaves")
		}
	})
	t.Run("none", func(t *testing.T) {
		t.Parallel()
		var c Census
		if !c.Abort(nil, func() { t.Error("aborted with nothing live") }, time.Millisecond, time.Millisecond) {
			t.Fatal("Abort = false with nothing live")
		}
	})
}

// flag is a fixed Flag.
type flag bool

func (f flag) Load() bool { return bool(f) }

// liveAtLoad is a Flag that records what Live was when Leave read it.
type liveAtLoad struct {
	c    *Census
	live int64
}

func (f *liveAtLoad) Load() bool { f.live = f.c.Live.Load(); return true }

// TestLeaveReadsStoppingAfter: Leave reads the stopping flag after it has
// counted the connection gone. Read before (Leave(stopping.Load()) in the
// engine), a Shutdown that set the flag and then read Live (still 1) in
// between waited for good on a channel the last Leave did not close.
func TestLeaveReadsStoppingAfter(t *testing.T) {
	t.Parallel()
	var c Census
	c.Join()
	f := &liveAtLoad{c: &c, live: -1}
	c.Leave(f)
	if f.live != 0 {
		t.Fatalf("Live was %d when Leave read the flag, want 0 (read after the count)", f.live)
	}
}
