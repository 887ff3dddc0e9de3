package engine

import (
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/wsconn"
)

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
type Trace struct {
	// FrameIn sees each frame's header as soon as it is parsed, before it is
	// checked or handled (so a frame that fails the connection is seen too), in
	// the connection's worker context: in order, never overlapping the
	// connection's Handler callbacks. Length is the payload on the wire
	// (compressed, for a permessage-deflate message).
	FrameIn func(c *Conn, h frame.Header)
	// FrameOut sees each frame's header as it is written or queued, control
	// frames and close frames included, on the goroutine that writes and under
	// the connection's write lock: it must not write to the connection. Masked
	// and Mask are set on a client's frames.
	FrameOut func(c *Conn, h frame.Header)
}

// core is t over the machine's Conn: each callback sees the same connection as
// engine's Conn (nil stays nil, and so does a nil field: no call per frame).
func (t *Trace) core() *wsconn.Trace {
	if t == nil {
		return nil
	}
	k := &wsconn.Trace{}
	if in := t.FrameIn; in != nil {
		k.FrameIn = func(c *wsconn.Conn, h frame.Header) { in(pub(c), h) }
	}
	if out := t.FrameOut; out != nil {
		k.FrameOut = func(c *wsconn.Conn, h frame.Header) { out(pub(c), h) }
	}
	return k
}
