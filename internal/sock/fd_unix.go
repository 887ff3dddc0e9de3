//go:build linux || darwin || freebsd

package sock

import (
	"errors"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

func closeFD(fd int) error { return unix.Close(fd) }

// Read is read(2) on the owned socket: n is never negative. A closed FD fails
// with EBADF.
func (f *FD) Read(b []byte) (int, error) {
	n, err := unix.Read(f.Int(), b)
	return max(n, 0), err
}

// Write2 writes a then b without blocking and returns how much the socket
// took: a full socket buffer (EAGAIN) is a short count and no error, and an
// interrupted call is retried.
func (f *FD) Write2(a, b []byte) (int, error) {
	for {
		n, err := writev2(f.Int(), a, b)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return max(n, 0), nil
		}
		return max(n, 0), err
	}
}

// Err takes the socket's pending error (SO_ERROR, which reading clears):
// nil when there is none or the FD is closed.
func (f *FD) Err() error {
	v, err := unix.GetsockoptInt(f.Int(), unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil || v == 0 {
		return nil
	}
	return syscall.Errno(v)
}

// Shutdown half-closes the socket: the peer reads EOF once what was written
// is out.
func (f *FD) Shutdown() error { return unix.Shutdown(f.Int(), unix.SHUT_WR) }

// LocalAddr asks the socket for its local address (the zero AddrPort for a
// closed FD or a Unix socket).
func (f *FD) LocalAddr() netip.AddrPort {
	sa, err := unix.Getsockname(f.Int())
	if err != nil {
		return netip.AddrPort{}
	}
	return addrPort(sa)
}

// IsAgain reports whether err says the socket had nothing to read or no room.
func IsAgain(err error) bool { return err == unix.EAGAIN || errors.Is(err, syscall.EAGAIN) }

// IsIntr reports whether err is an interrupted system call, to be retried.
func IsIntr(err error) bool { return err == unix.EINTR }
