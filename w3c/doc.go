// Package w3c is a WebSocket client in the shape of the browser's WebSocket
// (WHATWG HTML, "The WebSocket interface"), as WebSocket-Node's W3CWebSocket
// offers it to Node programs: a thin adapter over weir's client (engine.Dial),
// for code and people who think in onopen, onmessage, onerror and onclose.
//
//	ws, err := w3c.New("ws://localhost:8080/chat", nil, &w3c.Options{
//		OnOpen:    func(e w3c.Event) { e.Target.Send(`{"text":"hi"}`) },
//		OnMessage: func(e w3c.MessageEvent) { fmt.Println(e.Data) },
//		OnClose:   func(e w3c.CloseEvent) { fmt.Println("closed", e.Code, e.WasClean) },
//	})
//
// # Contract
//
// New checks the URL and protocols at once (ErrSyntax, as the browser's
// constructor throws a SyntaxError) and returns while the connection is still
// CONNECTING; the handshake runs on a goroutine of its own.
//
// Callbacks, given in Options before anything can happen, run on one event
// goroutine per WebSocket, one at a time and in order, never on the engine's
// loops or workers: a callback may block, and may call Send or Close. Each
// event names its WebSocket (Target), so a callback need not capture the
// value New returns (the first event may come before New's caller has it).
//
//   - open: once, when the handshake has succeeded; ReadyState is OPEN.
//   - message: Data is a string for a text message and a []byte (a copy the
//     callback may keep) for a binary one; BinaryType is "arraybuffer", the only
//     type there is, as in WebSocket-Node.
//   - error: the connection failed (a refused or broken handshake, a protocol
//     error, a connection lost without a close frame); Err says why, and is an
//     *upgrade.HandshakeError for a refused handshake. A close event follows.
//   - close: last, exactly once, whatever happened: Code and Reason from the
//     close frame (1006 when there was none, as after a failed handshake;
//     the code weir sent when it failed the connection itself), WasClean when
//     the closing handshake completed. After it, Done is closed.
//
// A callback that panics is reported to Options.Logger, as a browser reports
// a listener's exception, and the events go on.
//
// While callbacks are slower than the messages arrive, up to 64 events or 1 MiB
// of messages wait; beyond that the connection stops reading
// (engine.Conn.PauseRead) until the callbacks catch up, so the server is slowed
// by TCP rather than memory grown.
//
// Send takes a string (a text message, which must be UTF-8) or a []byte (a
// binary message); anything else is ErrDataType. It does not block: the engine
// queues what the socket does not take, and BufferedAmount says how much that
// is. Send before OPEN is ErrInvalidState; after Close it is engine.ErrClosed.
//
// Close(code, reason) follows the browser's close(): code 0 means none given
// (a close frame without a status, or 1000 when a reason is given), otherwise
// 1000 or 3000-4999 (ErrInvalidAccess), and a reason of at most 123 bytes
// once invalid UTF-8 is replaced by U+FFFD (ErrSyntax). Closing while CONNECTING abandons the handshake: error and close
// (1006) follow, as in a browser.
package w3c
