package sock

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
)

// ErrUnsupported is what Listen and the FD's syscalls return where this
// package has no raw sockets (not Linux, macOS or FreeBSD).
var ErrUnsupported = errors.New("sock: no raw sockets on this platform")

// Listener is a non-blocking listening socket whose connections are taken on
// an event loop (Accept until EAGAIN), never in a goroutine per connection.
type Listener struct {
	fd     int
	addr   net.Addr
	file   *os.File    // when the fd was taken from a net.Listener
	closed atomic.Bool // set once, by Close
	mu     sync.Mutex  // held while accepting, so Close cannot free the fd under accept
	abuf   acceptBuf   // the peer address accept writes (under mu; accept_*.go)
}

// FD is the listening fd, for the poller.
func (l *Listener) FD() int { return l.fd }

// Addr is the address the socket is bound to.
func (l *Listener) Addr() net.Addr { return l.addr }
