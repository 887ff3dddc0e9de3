//go:build darwin || freebsd

package poller

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Poller watches fds for readiness; see the package documentation.
type Poller struct {
	lifecycle
	kq int

	raw []unix.Kevent_t // Wait's scratch, grown to len(events), in keventMem
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

// Add starts watching fd, edge-triggered (EV_CLEAR), for in; its events
// carry tok. On kqueue it is the same operation as Modify.
func (p *Poller) Add(fd int, tok uint32, in Interest) error { return p.apply(fd, tok, in, false) }

// Modify replaces the interest (and the token) of a watched fd. A filter
// switched off is deleted and one switched on is added afresh (EV_ADD on a
// live filter updates its udata); a new knote evaluates the socket at once,
// so turning Read back on reports data already waiting.
func (p *Poller) Modify(fd int, tok uint32, in Interest) error { return p.apply(fd, tok, in, false) }

// Remove stops watching fd.
func (p *Poller) Remove(fd int) error { return p.apply(fd, 0, 0, true) }

// keventWords is the size of a Kevent_t in uint64 words.
const keventWords = (unsafe.Sizeof(unix.Kevent_t{}) + 7) / 8

// keventMem views words as n Kevent_t. The token rides in Udata, which
// x/sys types as a pointer: kept in memory typed as []uint64, it is never
// scanned by the garbage collector, which would otherwise find a small
// integer where it expects a pointer.
func keventMem(words []uint64, n int) []unix.Kevent_t {
	return unsafe.Slice((*unix.Kevent_t)(unsafe.Pointer(unsafe.SliceData(words))), n)
}

// setToken stores tok in ev's udata (ev must live in keventMem).
func setToken(ev *unix.Kevent_t, tok uint32) {
	*(*uintptr)(unsafe.Pointer(&ev.Udata)) = uintptr(tok)
}

// token reads the token back from a reported event's udata.
func token(ev *unix.Kevent_t) uint32 {
	return uint32(*(*uintptr)(unsafe.Pointer(&ev.Udata)))
}

// apply adds the filters in asks for and deletes the others in one kevent
// call. EV_RECEIPT returns a status per change instead of pending events, so
// the call neither blocks nor steals events from Wait, and deleting a filter
// that was not registered (ENOENT) can be told apart from a real failure.
// With strict (Remove), an fd with neither filter registered is ENOENT.
func (p *Poller) apply(fd int, tok uint32, in Interest, strict bool) error {
	var chw, resw [2 * keventWords]uint64
	ch, res := keventMem(chw[:], 2), keventMem(resw[:], 2)
	unix.SetKevent(&ch[0], fd, unix.EVFILT_READ, filterFlags(in&Read != 0))
	unix.SetKevent(&ch[1], fd, unix.EVFILT_WRITE, filterFlags(in&Write != 0))
	setToken(&ch[0], tok)
	setToken(&ch[1], tok)
	if !p.acquire() {
		return ErrClosed
	}
	// res has exactly one slot per change: with every slot taken by a
	// receipt, the kernel returns without scanning for events.
	n, err := unix.Kevent(p.kq, ch, res, nil)
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
		p.raw = keventMem(make([]uint64, uintptr(len(events))*keventWords), len(events))
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
		events[j] = Event{Fd: int32(ev.Ident), Token: token(ev), Flags: f}
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
