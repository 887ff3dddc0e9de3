package sock

import (
	"time"

	"golang.org/x/sys/unix"
)

// tcpKeepIdle is the option for the idle time before the first keepalive probe.
const tcpKeepIdle = unix.TCP_KEEPIDLE

// setUserTimeout does nothing: TCP_USER_TIMEOUT is Linux's (Config.TCPUserTimeout
// says so).
func setUserTimeout(int, time.Duration) error { return nil }
