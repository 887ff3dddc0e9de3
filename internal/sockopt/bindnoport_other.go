//go:build !linux

package sockopt

import "syscall"

// BindNoPort is nil where IP_BIND_ADDRESS_NO_PORT does not exist (it is Linux's):
// the port is then picked at bind time.
var BindNoPort func(network, address string, rc syscall.RawConn) error
