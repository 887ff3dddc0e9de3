package poller

import (
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// WakeConsumed reports whether no wake-up is pending: the coalescing flag is
// clear and the eventfd counter has been drained.
func WakeConsumed(p *Poller) (bool, error) {
	if p.wakePending.Load() {
		return false, nil
	}
	var b [8]byte
	_, err := unix.Read(p.wakefd, b[:])
	if err == unix.EAGAIN {
		return true, nil
	}
	return false, err
}

// CountPolls counts the epoll_wait calls Wait makes on p's epoll instance
// (either of its fds) until the test ends.
func CountPolls(t interface{ Cleanup(func()) }, p *Poller) *atomic.Int64 {
	var n atomic.Int64
	park := -1
	if p.park != nil {
		park = int(p.park.Fd())
	}
	epfd := p.epfd
	prev := epollWait
	epollWait = func(fd int, ev []unix.EpollEvent, ms int) (int, error) {
		if fd == epfd || fd == park {
			n.Add(1)
		}
		return prev(fd, ev, ms)
	}
	t.Cleanup(func() { epollWait = prev })
	return &n
}

// CountDeadlines counts the deadlines parked Waits arm on p until the test ends.
func CountDeadlines(t interface{ Cleanup(func()) }, p *Poller) *atomic.Int64 {
	var n atomic.Int64
	park := p.park
	prev := setDeadline
	setDeadline = func(f *os.File, dl time.Time) error {
		if f == park {
			n.Add(1)
		}
		return prev(f, dl)
	}
	t.Cleanup(func() { setDeadline = prev })
	return &n
}
