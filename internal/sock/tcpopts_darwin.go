package sock

import (
	"time"

	"golang.org/x/sys/unix"
)

// tcpKeepIdle is the option for the idle time before the first keepalive probe
// (TCP_KEEPALIVE on macOS).
const tcpKeepIdle = unix.TCP_KEEPALIVE

// setUserTimeout does nothing: TCP_USER_TIMEOUT is Linux's (Config.TCPUserTimeout
// says so).
func setUserTimeout(int, time.Duration) error { return nil }
