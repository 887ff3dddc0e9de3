package engine

import (
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/wsconn"
)

// Handler receives a connection's events. Embed NopHandler and override what you
// need. For one connection the calls never overlap and arrive in order; a payload
// slice is valid only until the call returns (copy it to keep it).
type Handler interface {
	// OnOpen is called once the handshake has completed, before any other call.
	OnOpen(c *Conn)
	// OnMessage receives a complete message: OpText (valid UTF-8) or OpBinary.
	OnMessage(c *Conn, op frame.Opcode, payload []byte)
	// OnFrame receives every data frame when Config.DisableAssembly is set; the
	// opcode of a continuation frame is OpContinuation and h.Fin marks the last one.
	OnFrame(c *Conn, h frame.Header, payload []byte)
	// OnPing sees a ping's payload. Return false to cancel the automatic pong for
	// this ping (WebSocket-Node's cancel()); true lets it go.
	OnPing(c *Conn, payload []byte) bool
	// OnPong sees a pong's payload.
	OnPong(c *Conn, payload []byte)
	// OnDrain is called when the outbound buffer, having held more than
	// Config.DrainLowWater bytes, is back at or below it.
	OnDrain(c *Conn)
	// OnClose is called once, after the connection is closed. code and reason are the
	// close status: the peer's close frame (1005 when it had no code), the code weir
	// sent when it failed the connection, or 1006 when TCP ended without a close frame.
	// err is nil after a clean close handshake and says why otherwise: a
	// *frame.ProtocolError, ErrAbnormalClosure, ErrPeerTimeout, an I/O error...
	OnClose(c *Conn, code frame.StatusCode, reason string, err error)
}

// NopHandler implements Handler by doing nothing (and letting every pong go).
type NopHandler struct{}

func (NopHandler) OnOpen(*Conn)                                   {}
func (NopHandler) OnMessage(*Conn, frame.Opcode, []byte)          {}
func (NopHandler) OnFrame(*Conn, frame.Header, []byte)            {}
func (NopHandler) OnPing(*Conn, []byte) bool                      { return true }
func (NopHandler) OnPong(*Conn, []byte)                           {}
func (NopHandler) OnDrain(*Conn)                                  {}
func (NopHandler) OnClose(*Conn, frame.StatusCode, string, error) {}

// handler is a Handler as the connection machine calls it: each call passes
// the machine's Conn on as the engine's, the same connection (pub).
type handler struct{ h Handler }

func (a handler) OnOpen(c *wsconn.Conn) { a.h.OnOpen(pub(c)) }
func (a handler) OnMessage(c *wsconn.Conn, op frame.Opcode, p []byte) {
	a.h.OnMessage(pub(c), op, p)
}
func (a handler) OnFrame(c *wsconn.Conn, h frame.Header, p []byte) { a.h.OnFrame(pub(c), h, p) }
func (a handler) OnPing(c *wsconn.Conn, p []byte) bool             { return a.h.OnPing(pub(c), p) }
func (a handler) OnPong(c *wsconn.Conn, p []byte)                  { a.h.OnPong(pub(c), p) }
func (a handler) OnDrain(c *wsconn.Conn)                           { a.h.OnDrain(pub(c)) }
func (a handler) OnClose(c *wsconn.Conn, code frame.StatusCode, reason string, err error) {
	a.h.OnClose(pub(c), code, reason, err)
}

// coreHandler is h for the machine: nil stays nil (each caller picks its
// default).
func coreHandler(h Handler) wsconn.Handler {
	if h == nil {
		return nil
	}
	return handler{h}
}
