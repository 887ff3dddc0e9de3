package poller

import (
	"encoding/binary"
	"errors"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// epollWait is unix.EpollWait, a variable so that tests can count the calls.
var epollWait = unix.EpollWait

// setDeadline is (*os.File).SetReadDeadline, a variable so that tests can
// count the calls.
var setDeadline = (*os.File).SetReadDeadline

// Poller watches fds for readiness; see the package documentation.
type Poller struct {
	lifecycle
	epfd   int
	wakefd int // eventfd, level-triggered, drained by Wait

	// park is a duplicate of epfd registered with Go's own netpoller (set by
	// ParkInRuntime): with nothing ready, Wait parks its goroutine on it
	// instead of blocking a thread in epoll_wait (see parkWait).
	park  *os.File
	prc   syscall.RawConn
	poll  func(fd uintptr) bool // p.pollOnce, bound once: a closure per Wait would allocate
	pollN int                   // pollOnce's result
	pollE error
	pollB []unix.EpollEvent
	dl    time.Time // the deadline armed on park (zero: none)

	raw   []unix.EpollEvent // Wait's scratch, grown to len(events)
	drain [8]byte           // Wait's eventfd read buffer
	one   [8]byte           // the eventfd increment; written once in New, read-only after
}

// New creates an epoll instance with an eventfd for Wake.
func New() (*Poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	// Level-triggered on purpose: until Wait has drained the counter, every
	// epoll_wait returns at once, so no wake-up can be lost between threads.
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		unix.Close(wakefd)
		unix.Close(epfd)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	p := &Poller{epfd: epfd, wakefd: wakefd}
	binary.NativeEndian.PutUint64(p.one[:], 1) // eventfd(2): a host-order uint64
	return p, nil
}

// Add starts watching fd, edge-triggered, for in; its events carry tok.
// Hang-ups (EPOLLRDHUP) are always watched.
func (p *Poller) Add(fd int, tok uint32, in Interest) error {
	return p.ctl(unix.EPOLL_CTL_ADD, fd, tok, in)
}

// Modify replaces the interest (and the token) of a watched fd.
// epoll_ctl(MOD) re-evaluates the fd, so turning Read back on reports data
// that is already waiting.
func (p *Poller) Modify(fd int, tok uint32, in Interest) error {
	return p.ctl(unix.EPOLL_CTL_MOD, fd, tok, in)
}

// Remove stops watching fd.
func (p *Poller) Remove(fd int) error {
	return p.ctl(unix.EPOLL_CTL_DEL, fd, 0, 0)
}

func (p *Poller) ctl(op, fd int, tok uint32, in Interest) error {
	if !p.acquire() {
		return ErrClosed
	}
	// epoll_event.data is the caller's 64 bits, returned as they were given:
	// the fd in one half (Fd) and the token in the other (Pad).
	ev := unix.EpollEvent{Events: unix.EPOLLET | unix.EPOLLRDHUP, Fd: int32(fd), Pad: int32(tok)}
	if in&Read != 0 {
		ev.Events |= unix.EPOLLIN
	}
	if in&Write != 0 {
		ev.Events |= unix.EPOLLOUT
	}
	err := unix.EpollCtl(p.epfd, op, fd, &ev)
	p.release()
	if err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

// Wait blocks until at least one watched fd is ready, Wake is called, or
// timeoutMsec milliseconds pass (-1: no limit, 0: poll), and fills
// events[:n] with up to len(events) events. A wake-up, a timeout and an
// interrupted system call (EINTR) all return (0, nil). After ParkInRuntime
// the timeout may end up to 1 ms early or late (see parkWait).
func (p *Poller) Wait(events []Event, timeoutMsec int) (int, error) {
	if len(events) == 0 {
		return 0, errNoRoom
	}
	if len(p.raw) < len(events) {
		p.raw = make([]unix.EpollEvent, len(events))
	}
	if !p.enterWait() {
		return 0, ErrClosed
	}
	var n int
	var err error
	if p.prc != nil {
		n, err = p.parkWait(p.raw[:len(events)], timeoutMsec)
	} else {
		n, err = epollWait(p.epfd, p.raw[:len(events)], timeoutMsec)
	}
	j := 0
	for i := 0; i < n; i++ {
		ev := &p.raw[i]
		if int(ev.Fd) == p.wakefd {
			// Drain first, then clear: a Wake that lands in between sees
			// wakePending still set and skips the syscall, which is fine
			// because this Wait has not returned yet.
			unix.Read(p.wakefd, p.drain[:])
			p.wakePending.Store(false)
			continue
		}
		events[j] = Event{Fd: ev.Fd, Token: uint32(ev.Pad), Flags: epollFlags(ev.Events)}
		j++
	}
	if p.exitWait() {
		p.finishClose()
		return 0, ErrClosed
	}
	if err != nil {
		if err == unix.EINTR {
			return 0, nil
		}
		return 0, os.NewSyscallError("epoll_wait", err)
	}
	return j, nil
}

func epollFlags(e uint32) Flags {
	var f Flags
	if e&unix.EPOLLIN != 0 {
		f |= Readable
	}
	if e&unix.EPOLLOUT != 0 {
		f |= Writable
	}
	if e&(unix.EPOLLRDHUP|unix.EPOLLHUP) != 0 {
		f |= HangUp
	}
	if e&unix.EPOLLERR != 0 {
		f |= Error
	}
	return f
}

// signal increments the eventfd. EAGAIN means the counter is saturated,
// which still wakes Wait.
func (p *Poller) signal() error {
	if _, err := unix.Write(p.wakefd, p.one[:]); err != nil && err != unix.EAGAIN {
		return os.NewSyscallError("write", err)
	}
	return nil
}

func (p *Poller) closeFds() error {
	err1 := unix.Close(p.wakefd)
	err2 := unix.Close(p.epfd)
	if p.park != nil {
		p.park.Close() // the runtime's duplicate
	}
	if err1 != nil {
		return os.NewSyscallError("close", err1)
	}
	if err2 != nil {
		return os.NewSyscallError("close", err2)
	}
	return nil
}

// ParkInRuntime makes Wait park its goroutine in Go's own netpoller, instead
// of blocking its thread in epoll_wait, whenever nothing is ready; see
// parkWait for why. It must be called before the first Wait, and reports
// whether the runtime took the epoll fd (an epoll instance is itself pollable:
// it reads as ready while events wait in it). If not, Wait keeps blocking.
func (p *Poller) ParkInRuntime() bool {
	if !p.acquire() {
		return false
	}
	defer p.release()
	if p.park != nil {
		return true
	}
	// The runtime gets a duplicate: the same epoll instance under a second
	// fd that the os.File owns, so p.epfd stays p's whatever happens here.
	// os.NewFile registers a non-blocking fd with the netpoller; a deadline
	// can be set only if that worked.
	dfd, err := unix.FcntlInt(uintptr(p.epfd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return false
	}
	if unix.SetNonblock(dfd, true) != nil { // shared with p.epfd; epoll_wait ignores it
		unix.Close(dfd)
		return false
	}
	f := os.NewFile(uintptr(dfd), "epoll")
	rc, err := f.SyscallConn()
	if err != nil || f.SetReadDeadline(time.Time{}) != nil {
		f.Close()
		return false
	}
	p.park, p.prc, p.poll = f, rc, p.pollOnce
	return true
}

// parkWait is epoll_wait for a loop goroutine that should not hold a thread
// while it has nothing to do. It polls (timeout 0); when nothing is ready it
// parks the goroutine in Go's netpoller until the epoll fd becomes readable or
// the timeout passes. A blocking epoll_wait would instead park the thread
// with the goroutine on it, and every wake-up would cost a thread switch and a
// hand-off of the P; parked here, the loop is woken by the runtime's own poll,
// on a thread that is already running, as goroutines blocked in net.Conn
// reads are.
//
// A deadline is armed only when it changes: an event loop parks many times
// per tick of its timing wheel, each time until the same instant (rounded
// to the millisecond), and re-arming the runtime's timer for each park is a
// lock and a timer-heap update for nothing. A deadline within 1 ms of the
// armed one (and not yet passed) is taken as the same: Wait's timeout is in
// milliseconds anyway.
//
// The first poll is RawConn.Read's own first call of pollOnce, made before
// it parks: polling here as well would be one empty epoll_wait per park.
func (p *Poller) parkWait(raw []unix.EpollEvent, timeoutMsec int) (int, error) {
	if timeoutMsec == 0 {
		return epollWait(p.epfd, raw, 0)
	}
	var dl time.Time
	if timeoutMsec > 0 {
		now := time.Now()
		dl = now.Add(time.Duration(timeoutMsec) * time.Millisecond)
		if !p.dl.IsZero() && p.dl.After(now) && absDur(p.dl.Sub(dl)) <= time.Millisecond {
			dl = p.dl // the armed deadline will do
		}
	}
	if dl != p.dl {
		setDeadline(p.park, dl)
		p.dl = dl
	}
	p.pollB = raw
	rerr := p.prc.Read(p.poll)
	n, err := p.pollN, p.pollE
	p.pollB, p.pollN, p.pollE = nil, 0, nil
	if rerr != nil {
		if errors.Is(rerr, os.ErrDeadlineExceeded) {
			return 0, nil
		}
		return 0, rerr // the runtime gave up on the fd: let the caller see it
	}
	if err == unix.EINTR {
		err = nil
	}
	return n, err
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// pollOnce is the RawConn.Read callback: false parks until the epoll fd is
// readable again.
func (p *Poller) pollOnce(fd uintptr) bool {
	p.pollN, p.pollE = epollWait(int(fd), p.pollB, 0)
	return p.pollN != 0 || (p.pollE != nil && p.pollE != unix.EINTR)
}
