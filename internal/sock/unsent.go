package sock

import (
	"net"
	"syscall"
)

// Unsent is how many bytes written to the owned socket the kernel still
// holds: not yet sent, or not yet acknowledged by the peer. Bytes written
// less Unsent grows only as the peer takes them, which tells a peer that is
// reading (however slowly) from a dead one. ok is false where the kernel
// does not say (or for a closed FD).
func (f *FD) Unsent() (n int, ok bool) {
	fd := f.Int()
	if fd < 0 {
		return 0, false
	}
	return unsent(fd)
}

// UnsentConn is Unsent for a net.Conn whose socket the runtime's poller
// owns (goroutine mode): through its syscall.RawConn, so the fd is used
// under the poller's reference. ok is false for a net.Conn without one
// (a tls.Conn, a net.Pipe).
func UnsentConn(nc net.Conn) (n int, ok bool) {
	sc, is := nc.(syscall.Conn)
	if !is {
		return 0, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	if err := rc.Control(func(fd uintptr) { n, ok = unsent(int(fd)) }); err != nil {
		return 0, false
	}
	return n, ok
}
