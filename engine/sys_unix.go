//go:build linux || darwin || freebsd

package engine

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// Raw socket operations for connections on the loops. In goroutine mode (c.nc set)
// they go through the net.Conn instead.

func (c *Conn) sysRead(b []byte) (int, error) {
	n, err := unix.Read(c.fd.Int(), b)
	if n < 0 {
		n = 0
	}
	return n, err
}

// sysWrite2 writes a then b without blocking and returns how much the socket took.
func (c *Conn) sysWrite2(a, b []byte) (int, error) {
	if c.goroutine != nil {
		return c.netWrite2(a, b)
	}
	for {
		n, err := writev2(c.fd.Int(), a, b)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return max(n, 0), nil
		}
		return max(n, 0), err
	}
}

// closeSocket closes the socket (under write.mu, with the Writer marked closed, so that no other
// goroutine can touch a reused fd number afterwards).
func (c *Conn) closeSocket() {
	if c.goroutine != nil {
		c.closeNet()
		return
	}
	c.fd.Close() // once; afterwards c.fd.Int() is -1
}

// shutLocked half-closes the socket (under write.mu).
func (c *Conn) shutLocked() {
	if c.goroutine != nil {
		if cw, ok := c.goroutine.nc.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		return
	}
	unix.Shutdown(c.fd.Int(), unix.SHUT_WR)
}

func isAgain(err error) bool { return err == unix.EAGAIN || errors.Is(err, syscall.EAGAIN) }
func isIntr(err error) bool  { return err == unix.EINTR }
