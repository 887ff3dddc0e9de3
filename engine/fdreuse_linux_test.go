package engine

import (
	"net"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// reservedSocket is a TCP socket made before a victim's fd is freed, so
// that connecting it takes no fd number on this side: the server's accept
// gets the lowest free number, the victim's, and only then does the test
// wrap the socket (wrap dups it).
type reservedSocket struct{ fd int }

func reserveSocket() (*reservedSocket, bool) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	return &reservedSocket{fd: fd}, true
}

// connect connects to addr (blocking: loopback answers at once).
func (r *reservedSocket) connect(addr string) error {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return err
	}
	return unix.Connect(r.fd, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()})
}

// wrap makes the connected socket a net.Conn (and closes the reserved fd).
func (r *reservedSocket) wrap() (net.Conn, error) {
	f := os.NewFile(uintptr(r.fd), "reserved")
	r.fd = -1 // f closes it: never again here, the number may be another's by then
	defer f.Close()
	return net.FileConn(f)
}

// close closes a socket that was never wrapped.
func (r *reservedSocket) close() {
	if r.fd >= 0 {
		unix.Close(r.fd)
		r.fd = -1
	}
}
