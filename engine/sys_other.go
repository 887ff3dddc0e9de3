//go:build !(linux || darwin || freebsd)

package engine

import (
	"errors"
	"net"
	"net/netip"
	"os"
)

// Without a poller every connection runs in goroutine mode: the raw-fd operations
// are never reached.

func (c *Conn) sysRead([]byte) (int, error) { return 0, errNoPoller }

func (c *Conn) sysWrite2(a, b []byte) (int, error) { return c.netWrite2(a, b) }

func (c *Conn) closeSocket() {
	if c.goroutine != nil {
		c.closeNet()
	}
}

// shutLocked half-closes the socket (under write.mu); only goroutine mode runs here.
func (c *Conn) shutLocked() {
	if c.goroutine != nil {
		if cw, ok := c.goroutine.nc.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
	}
}

func isAgain(err error) bool { return false }
func isIntr(err error) bool  { return false }

type listener struct {
	fd   int32
	loop *loop
	eng  *engine
	addr net.Addr
	file *os.File
}

func (ln *listener) accept() {}
func (ln *listener) close()  {}

func listenTCP(string, int, bool) (int, net.Addr, error) { return -1, nil, errNoPoller }

func listenerFD(net.Listener) (int, *os.File, bool) { return -1, nil, false }

var _ = errors.New

func takeFD(net.Conn, bool) (int, bool) { return -1, false }

func localAddr(int) netip.AddrPort { return netip.AddrPort{} }
