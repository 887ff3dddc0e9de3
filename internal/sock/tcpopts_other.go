//go:build !(linux || darwin || freebsd)

package sock

import (
	"net"
	"time"
)

// setTCPConnOpts sets keepalive through the net package where weir has no raw
// socket code (Windows and the rest). Zero fields become negative, which the net
// package reads as "leave it": a zero field means the system's value, not the
// net package's 15 s. TCP_USER_TIMEOUT is Linux's: ignored here.
func setTCPConnOpts(tc *net.TCPConn, ka net.KeepAliveConfig, _ time.Duration) error {
	if !ka.Enable {
		return nil
	}
	if ka.Idle == 0 {
		ka.Idle = -1
	}
	if ka.Interval == 0 {
		ka.Interval = -1
	}
	if ka.Count == 0 {
		ka.Count = -1
	}
	return tc.SetKeepAliveConfig(ka)
}

// TuneAccepted is never reached: nothing is accepted here (see Listen).
func TuneAccepted(int, TCPOptions) error { return nil }
