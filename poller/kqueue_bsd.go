//go:build darwin || freebsd

package poller

import (
	"os"

	"golang.org/x/sys/unix"
)

// Poller watches fds for readiness; see the package documentation.
type Poller struct {
	lifecycle
	kq int

	raw []unix.Kevent_t // Wait's scratch, grown to len(events)
	ts  unix.Timespec   // Wait's timeout, kept here so it never escapes per call
}

// wakeIdent names the EVFILT_USER event behind Wake. User events have their
// own ident space, so it cannot collide with an fd.
const wakeIdent = 0

// New creates a kqueue with a user event for Wake.
func New() (*Poller, error) {
	kq, err := unix.Kqueue()
	if err != nil {
		return nil, os.NewSyscallError("kqueue", err)
	}
	unix.CloseOnExec(kq)
	// EV_CLEAR resets the user event when Wait retrieves it, so triggers
	// before that coalesce into one event.
	var ch [1]unix.Kevent_t
	unix.SetKevent(&ch[0], wakeIdent, unix.EVFILT_USER, unix.EV_ADD|unix.EV_CLEAR)
	if _, err := unix.Kevent(kq, ch[:], nil, nil); err != nil {
		unix.Close(kq)
		return nil, os.NewSyscallError("kevent", err)
	}
	return &Poller{kq: kq}, nil
}

// Add starts watching fd, edge-triggered (EV_CLEAR), for in. On kqueue it
// is the same operation as Modify.
func (p *Poller) Add(fd int, in Interest) error { return p.apply(fd, in, false) }

// Modify replaces the interest of a watched fd. A filter switched off is
// deleted and one switched on is added afresh; a new knote evaluates the
// socket at once, so turning Read back on reports data already waiting.
func (p *Poller) Modify(fd int, in Interest) error { return p.apply(fd, in, false) }

// Remove stops watching fd.
func (p *Poller) Remove(fd int) error { return p.apply(fd, 0, true) }

// apply adds the filters in asks for and deletes the others in one kevent
// call. EV_RECEIPT returns a status per change instead of pending events, so
// the call neither blocks nor steals events from Wait, and deleting a filter
// that was not registered (ENOENT) can be told apart from a real failure.
// With strict (Remove), an fd with neither filter registered is ENOENT.
func (p *Poller) apply(fd int, in Interest, strict bool) error {
	var ch, res [2]unix.Kevent_t
	unix.SetKevent(&ch[0], fd, unix.EVFILT_READ, filterFlags(in&Read != 0))
	unix.SetKevent(&ch[1], fd, unix.EVFILT_WRITE, filterFlags(in&Write != 0))
	if !p.acquire() {
		return ErrClosed
	}
	// res has exactly one slot per change: with every slot taken by a
	// receipt, the kernel returns without scanning for events.
	n, err := unix.Kevent(p.kq, ch[:], res[:], nil)
	p.release()
	if err != nil {
		return os.NewSyscallError("kevent", err)
	}
	missing := 0
	for i := 0; i < n; i++ {
		r := &res[i]
		if r.Flags&unix.EV_ERROR == 0 || r.Data == 0 {
			continue
		}
		errno := unix.Errno(r.Data)
		// A receipt is the change with its flags replaced by EV_ERROR, so
		// the filter tells whether it was a delete.
		if errno == unix.ENOENT && !wanted(r.Filter, in) {
			missing++
			continue
		}
		return os.NewSyscallError("kevent", errno)
	}
	if strict && missing == len(ch) {
		return os.NewSyscallError("kevent", unix.ENOENT)
	}
	return nil
}

func filterFlags(on bool) int {
	if on {
		return unix.EV_ADD | unix.EV_CLEAR | unix.EV_RECEIPT
	}
	return unix.EV_DELETE | unix.EV_RECEIPT
}

// wanted reports whether in asks for filter, that is whether apply added it
// rather than deleted it.
func wanted(filter int16, in Interest) bool {
	switch filter {
	case unix.EVFILT_READ:
		return in&Read != 0
	case unix.EVFILT_WRITE:
		return in&Write != 0
	}
	return false
}

// Wait blocks until at least one watched fd is ready, Wake is called, or
// timeoutMsec milliseconds pass (-1: no limit, 0: poll), and fills
// events[:n] with up to len(events) events. A wake-up, a timeout and an
// interrupted system call (EINTR) all return (0, nil).
func (p *Poller) Wait(events []Event, timeoutMsec int) (int, error) {
	if len(events) == 0 {
		return 0, errNoRoom
	}
	if len(p.raw) < len(events) {
		p.raw = make([]unix.Kevent_t, len(events))
	}
	var ts *unix.Timespec
	if timeoutMsec >= 0 {
		p.ts = unix.NsecToTimespec(int64(timeoutMsec) * 1e6)
		ts = &p.ts
	}
	if !p.enterWait() {
		return 0, ErrClosed
	}
	n, err := unix.Kevent(p.kq, nil, p.raw[:len(events)], ts)
	j := 0
	for i := 0; i < n; i++ {
		ev := &p.raw[i]
		var f Flags
		switch ev.Filter {
		case unix.EVFILT_USER:
			// EV_CLEAR already reset the event; a Wake from here on must
			// trigger it again.
			p.wakePending.Store(false)
			continue
		case unix.EVFILT_READ:
			f = Readable
		case unix.EVFILT_WRITE:
			f = Writable
		default:
			continue
		}
		if ev.Flags&unix.EV_EOF != 0 {
			f |= HangUp
			if ev.Fflags != 0 { // the socket error, e.g. ECONNRESET
				f |= Error
			}
		}
		if ev.Flags&unix.EV_ERROR != 0 {
			f |= Error
		}
		events[j] = Event{Fd: int32(ev.Ident), Flags: f}
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
		return 0, os.NewSyscallError("kevent", err)
	}
	return j, nil
}

// signal triggers the user event. With no room for events the call returns
// at once and never consumes anything meant for Wait.
func (p *Poller) signal() error {
	var ch [1]unix.Kevent_t
	unix.SetKevent(&ch[0], wakeIdent, unix.EVFILT_USER, 0)
	ch[0].Fflags = unix.NOTE_TRIGGER
	if _, err := unix.Kevent(p.kq, ch[:], nil, nil); err != nil {
		return os.NewSyscallError("kevent", err)
	}
	return nil
}

func (p *Poller) closeFds() error {
	if err := unix.Close(p.kq); err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}

// ParkInRuntime reports false: on kqueue, Wait always blocks its thread in
// kevent. (The Linux version parks the goroutine in Go's netpoller instead.)
func (p *Poller) ParkInRuntime() bool { return false }
