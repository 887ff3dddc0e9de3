package poller_test

import (
	"testing"
	"time"

	"github.com/weir-ws/weir/poller"
	"golang.org/x/sys/unix"
)

// TestParkPollsOnce: a parked Wait that finds nothing and is woken by input
// makes two epoll_wait calls, the poll that finds nothing (after which it
// parks) and the one that takes the event; a third (an empty poll before the
// runtime's own first poll) is one syscall per park for nothing. Not
// parallel: it swaps the package's epoll_wait for a counting one.
func TestParkPollsOnce(t *testing.T) {
	p := parkedPoller(t)
	a, b := socketPair(t)
	if err := p.Add(a, 7, poller.Read); err != nil {
		t.Fatal(err)
	}
	polls := poller.CountPolls(t, p)
	go func() {
		time.Sleep(20 * time.Millisecond) // mostly after Wait parked; either way the count holds
		unix.Write(b, []byte{1})
	}()
	events := make([]poller.Event, 8)
	for range 100 { // a wake-up without the event (none expected) just loops
		n, err := p.Wait(events, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
	}
	if got := polls.Load(); got > 2 {
		t.Fatalf("a parked Wait made %d epoll_wait calls, want at most 2", got)
	}
}

// TestParkKeepsDeadline: parked Waits whose timeouts end at the same instant
// (as an event loop's do within one tick of its timing wheel) arm the
// runtime's deadline timer once, not once per park; one ending elsewhere, or
// none, arms again. Not parallel: it swaps the package's deadline setter.
func TestParkKeepsDeadline(t *testing.T) {
	p := parkedPoller(t)
	arms := poller.CountDeadlines(t, p)
	events := make([]poller.Event, 8)
	wait := func(ms int) {
		t.Helper()
		if err := p.Wake(); err != nil { // returns at once (after parking or not)
			t.Fatal(err)
		}
		if _, err := p.Wait(events, ms); err != nil {
			t.Fatal(err)
		}
	}
	// Ten Waits until one instant 10 s away: the later ones ask for a
	// millisecond or so less each, as the loop computes its timeout anew.
	// Each Wait's deadline is its own time.Now plus the rounded timeout, so
	// a scheduling delay of a millisecond or more between the test's
	// time.Until and parkWait's time.Now (a preempted goroutine on a loaded
	// machine, -race) moves it past the 1 ms slack and arms it again, as it
	// would in the loop: that re-arm is right. So a burst is retried until
	// one ran without such a delay; a park that re-armed every time would
	// arm 10 times in every burst.
	best := int64(-1)
	for attempt := 0; attempt < 20 && best != 1; attempt++ {
		wait(-1) // no deadline armed: the burst's first Wait arms one
		arms.Store(0)
		end := time.Now().Add(10 * time.Second)
		for range 10 {
			wait(int(time.Until(end).Milliseconds()) + 1) // as wheel.UntilNext rounds
		}
		if got := arms.Load(); best < 0 || got < best {
			best = got
		}
	}
	if best != 1 {
		t.Fatalf("10 parks with one deadline armed it %d times at best in 20 bursts, want 1", best)
	}
	arms.Store(0)
	wait(60_000) // another deadline
	wait(-1)     // none
	if got := arms.Load(); got != 2 {
		t.Fatalf("a new deadline and then none: %d arms, want 2", got)
	}
}

// parkedPoller is a Poller whose Wait parks in Go's netpoller, in either pass.
func parkedPoller(t *testing.T) *poller.Poller {
	t.Helper()
	p, err := poller.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if !p.ParkInRuntime() {
		t.Skip("the runtime did not take the epoll fd")
	}
	return p
}
