//go:build !linux

package loadgen

import "syscall"

// bindNoPort is nil where IP_BIND_ADDRESS_NO_PORT does not exist (it is Linux's):
// the port is then picked at bind time.
var bindNoPort func(network, address string, rc syscall.RawConn) error
