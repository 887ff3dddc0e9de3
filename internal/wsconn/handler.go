package wsconn

import "github.com/weir-ws/weir/frame"

// Handler is engine.Handler over this package's Conn (engine.handler adapts
// one to the other).
type Handler interface {
	OnOpen(c *Conn)
	OnMessage(c *Conn, op frame.Opcode, payload []byte)
	OnFrame(c *Conn, h frame.Header, payload []byte)
	OnPing(c *Conn, payload []byte) bool
	OnPong(c *Conn, payload []byte)
	OnDrain(c *Conn)
	OnClose(c *Conn, code frame.StatusCode, reason string, err error)
}
