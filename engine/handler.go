package engine

import "github.com/weir-ws/weir/internal/callback"

// Handler receives a connection's events: OnOpen, OnMessage (or OnFrame under
// Config.DisableAssembly), OnPing, OnPong, OnDrain, OnClose, each documented in
// internal/callback. Embed NopHandler and override what you need. For one
// connection the calls never overlap and arrive in order; a payload slice is
// valid only until the call returns (copy it to keep it).
type Handler = callback.Handler[*Conn]

// NopHandler implements Handler by doing nothing (and letting every pong go).
type NopHandler = callback.Nop[*Conn]

// Trace observes the frames of every connection of a Server or Client
// (Config.Trace): FrameIn sees each header as it is parsed, in the worker
// context; FrameOut as it is written or queued, under the write lock (it must
// not write). Headers only, never payloads; callbacks must be quick. See
// internal/callback.
type Trace = callback.Trace[*Conn]
