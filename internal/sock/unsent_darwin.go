package sock

import "golang.org/x/sys/unix"

// unsent is SO_NWRITE: the bytes in the socket's send buffer, not yet sent or
// not yet acknowledged by the peer (TCP).
func unsent(fd int) (int, bool) {
	n, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_NWRITE)
	return n, err == nil
}
