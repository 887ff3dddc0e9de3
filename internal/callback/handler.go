package callback

import "github.com/weir-ws/weir/frame"

// Handler receives a connection's events. Embed Nop and override what you
// need. For one connection the calls never overlap and arrive in order; a
// payload slice is valid only until the call returns (copy it to keep it).
type Handler[C any] interface {
	// OnOpen is called once the handshake has completed, before any other call.
	OnOpen(c C)
	// OnMessage receives a complete message: OpText (valid UTF-8) or OpBinary.
	OnMessage(c C, op frame.Opcode, payload []byte)
	// OnFrame receives every data frame when Config.DisableAssembly is set; the
	// opcode of a continuation frame is OpContinuation and h.Fin marks the last one.
	OnFrame(c C, h frame.Header, payload []byte)
	// OnPing sees a ping's payload. Return false to cancel the automatic pong for
	// this ping (WebSocket-Node's cancel()); true lets it go.
	OnPing(c C, payload []byte) bool
	// OnPong sees a pong's payload.
	OnPong(c C, payload []byte)
	// OnDrain is called when the outbound buffer, having held more than
	// Config.DrainLowWater bytes, is back at or below it.
	OnDrain(c C)
	// OnClose is called once, after the connection is closed. code and reason are the
	// close status: the peer's close frame (1005 when it had no code), the code weir
	// sent when it failed the connection, or 1006 when TCP ended without a close frame.
	// err is nil after a clean close handshake and says why otherwise: a
	// *frame.ProtocolError, ErrAbnormalClosure, ErrPeerTimeout, an I/O error...
	OnClose(c C, code frame.StatusCode, reason string, err error)
}

// Nop implements Handler by doing nothing (and letting every pong go).
type Nop[C any] struct{}

func (Nop[C]) OnOpen(C)                                   {}
func (Nop[C]) OnMessage(C, frame.Opcode, []byte)          {}
func (Nop[C]) OnFrame(C, frame.Header, []byte)            {}
func (Nop[C]) OnPing(C, []byte) bool                      { return true }
func (Nop[C]) OnPong(C, []byte)                           {}
func (Nop[C]) OnDrain(C)                                  {}
func (Nop[C]) OnClose(C, frame.StatusCode, string, error) {}

// Trace observes the frames of every connection of a Server or Client
// (Config.Trace), for debug logs, per-opcode metrics or tracing spans: the
// frame-level view watershed gives through DTrace probes and WebSocket-Node
// through its debug module. The connection's start and end are Handler.OnOpen
// and OnClose, refused handshakes upgrade.Upgrader.OnHandshakeError, and
// totals Server.Stats. A nil field costs a nil check per frame.
//
// Both get headers only, never payloads: a payload is valid only inside the
// engine, and copying it would put an allocation on every frame. Callbacks must
// be quick and must not block.
type Trace[C any] struct {
	// FrameIn sees each frame's header as soon as it is parsed, before it is
	// checked or handled (so a frame that fails the connection is seen too), in
	// the connection's worker context: in order, never overlapping the
	// connection's Handler callbacks. Length is the payload on the wire
	// (compressed, for a permessage-deflate message).
	FrameIn func(c C, h frame.Header)
	// FrameOut sees each frame's header as it is written or queued, control
	// frames and close frames included, on the goroutine that writes and under
	// the connection's write lock: it must not write to the connection. Masked
	// and Mask are set on a client's frames.
	FrameOut func(c C, h frame.Header)
}
