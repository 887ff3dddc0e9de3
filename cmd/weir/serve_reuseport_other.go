//go:build !(linux || darwin || freebsd)

package main

import "syscall"

// reusePortControl is nil here: -reuseport is refused with errReusePortUnsupported.
var reusePortControl func(network, address string, rc syscall.RawConn) error
