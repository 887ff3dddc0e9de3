// Package callback states what a WebSocket connection tells the program and
// in what order: the Handler contract and the frame Trace, over the
// connection's type C. engine exports them under its own names, with C its
// *Conn (engine.Handler, engine.NopHandler, engine.Trace); this package keeps
// them below engine so that pieces standing on their own (a message queue, a
// test harness) can implement or wrap a Handler without importing engine.
//
// Contract (the engine keeps it; a Handler may rely on it):
//
//   - For one connection the calls never overlap and arrive in order: OnOpen
//     first, once, only after the opening handshake; OnClose last, once.
//   - A payload slice is valid only until the call returns: copy it to keep it.
//   - Trace's callbacks get frame headers, never payloads; a nil field costs
//     a nil check per frame.
//   - Nop implements Handler by doing nothing and letting every pong go; embed
//     it and override what you need.
package callback
