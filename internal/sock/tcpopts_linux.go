package sock

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// tcpKeepIdle is the option for the idle time before the first keepalive probe.
const tcpKeepIdle = unix.TCP_KEEPIDLE

// setUserTimeout sets TCP_USER_TIMEOUT (milliseconds, rounded up): how long sent
// data may stay unacknowledged before the kernel ends the connection.
func setUserTimeout(fd int, d time.Duration) error {
	ms := int(max((d+time.Millisecond-1)/time.Millisecond, 1))
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, ms); err != nil {
		return os.NewSyscallError("setsockopt TCP_USER_TIMEOUT", err)
	}
	return nil
}
