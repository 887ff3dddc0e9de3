package engine

import (
	"net"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/netconn"
)

// NetConn adapts a connection that ReadMessage can read to a net.Conn.
//
// Deprecated: use netconn.New(c, op), which it calls.
func NetConn(c *Conn, op frame.Opcode) net.Conn { return netconn.New(c, op) }
