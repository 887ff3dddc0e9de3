//go:build !(linux || darwin || freebsd)

package cli

import "syscall"

// reusePortControl is nil here: -reuseport is refused with errReusePortUnsupported.
var reusePortControl func(network, address string, rc syscall.RawConn) error
