//go:build linux || freebsd

package sock

import "golang.org/x/sys/unix"

// acceptNB accepts one connection, non-blocking and close-on-exec in one call.
func acceptNB(fd int) (int, unix.Sockaddr, error) {
	return unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
}

func socketCloexec(family int) (int, error) {
	return unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
}
