package poller

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// Interest selects the readiness an fd is watched for.
type Interest uint8

const (
	// Read asks for Readable events. Dropping it (Modify without Read) pauses
	// reading: the kernel buffers and TCP flow control push back on the peer.
	Read Interest = 1 << iota
	// Write asks for Writable events; arm it only while there is queued
	// output, since an idle socket is nearly always writable.
	Write
)

// Flags describe what happened to an fd; see the package documentation for
// the meaning of each flag.
type Flags uint8

const (
	// Readable: data, EOF or an error is waiting to be read.
	Readable Flags = 1 << iota
	// Writable: the send buffer has room (or a connect completed).
	Writable
	// HangUp: the peer closed its sending side, or the connection is gone.
	HangUp
	// Error: the socket has a pending error.
	Error
)

// String lists the set flags, for logs and test failures.
func (f Flags) String() string {
	if f == 0 {
		return "0"
	}
	names := [...]string{"readable", "writable", "hangup", "error"}
	var b strings.Builder
	for i, name := range names {
		if f&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte('|')
			}
			b.WriteString(name)
		}
	}
	if rest := f &^ (1<<len(names) - 1); rest != 0 {
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		fmt.Fprintf(&b, "%#x", uint8(rest))
	}
	return b.String()
}

// Event is one readiness report for one fd. Token is the token of the
// registration that reported it (given to Add and Modify): an fd number is
// reused as soon as it is closed, so an event taken from the kernel before a
// close may name a number that now belongs to another registration, and only
// the token tells them apart.
type Event struct {
	Fd    int32
	Token uint32
	Flags Flags
}

var (
	// ErrUnsupported is returned by New on platforms without epoll or
	// kqueue. It matches errors.ErrUnsupported too.
	ErrUnsupported = fmt.Errorf("poller: no epoll or kqueue on this platform: %w", errors.ErrUnsupported)
	// ErrClosed is returned by every method of a closed Poller, and by a Wait
	// that Close interrupted. It matches fs.ErrClosed too.
	ErrClosed = fmt.Errorf("poller: closed: %w", fs.ErrClosed)

	// errNoRoom reports a Wait without room for a single event, which would
	// otherwise fail with EINVAL on Linux and return at once on kqueue.
	errNoRoom = fmt.Errorf("poller: Wait needs len(events) > 0: %w", fs.ErrInvalid)
)
