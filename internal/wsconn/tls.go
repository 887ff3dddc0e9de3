package wsconn

import (
	"net"

	"github.com/weir-ws/weir/upgrade"
)

// TLSConnOf returns nc as an upgrade.TLSConn when it is one, else a nil
// interface (never a typed nil).
func TLSConnOf(nc net.Conn) upgrade.TLSConn {
	if t, ok := nc.(upgrade.TLSConn); ok {
		return t
	}
	return nil
}
