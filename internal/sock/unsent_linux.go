package sock

import "golang.org/x/sys/unix"

// unsent is SIOCOUTQ: the bytes in the socket's send queue, not yet sent or
// not yet acknowledged by the peer (TCP).
func unsent(fd int) (int, bool) {
	n, err := unix.IoctlGetInt(fd, unix.SIOCOUTQ)
	return n, err == nil
}
