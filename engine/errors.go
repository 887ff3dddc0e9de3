package engine

import (
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/admit"
	"github.com/weir-ws/weir/internal/closing"
	"github.com/weir-ws/weir/internal/guard"
	"github.com/weir-ws/weir/internal/tlsloop"
	"github.com/weir-ws/weir/internal/wsconn"
	"github.com/weir-ws/weir/internal/wsread"
	"github.com/weir-ws/weir/internal/wswrite"
)

// ErrNoQueue: ReadMessage on a connection that has a Handler of its own.
var ErrNoQueue = wsconn.ErrNoQueue

// ErrAborted is reported to OnClose after Abort.
var ErrAborted = closing.ErrAborted

// IOError wraps a socket error that ended a connection: a struct{ Err error }
// whose Error and Unwrap are Err's (errors.As finds it, errors.Is sees
// through it).
type IOError = wsconn.IOError

// ErrNoTLSExporter is what ExportKeyingMaterial returns on the
// TLSConnectionState of a connection whose exporter was let go
// (Config.TLSDropExporter).
var ErrNoTLSExporter = tlsloop.ErrNoExporter

// CloseError is the close status of a connection: the code and reason the peer sent,
// or the ones weir sent when it failed the connection. Reads that fail because the
// connection is closed return it; use errors.As, or CloseStatus. It is a
// struct{ Code frame.StatusCode; Reason string } whose Error says both.
type CloseError = wsconn.CloseError

// CloseStatus returns the close code carried by err (a *CloseError or a
// *frame.ProtocolError anywhere in its chain), or 0 when there is none.
func CloseStatus(err error) frame.StatusCode {
	return wsconn.CloseStatus(err)
}

// Protocol violations the engine detects beyond the header parser's own. Each is a
// *frame.ProtocolError, so errors.As yields the close code that was sent. They are
// the read side's own values (internal/wsread), so errors.Is matches either.
var (
	// ErrUnmaskedFrame: a client sent an unmasked frame (RFC 6455 §5.1).
	ErrUnmaskedFrame = wsread.ErrUnmaskedFrame
	// ErrMaskedFrame: a server sent a masked frame (RFC 6455 §5.1).
	ErrMaskedFrame = wsread.ErrMaskedFrame
	// ErrUnexpectedRSV: an RSV bit is set that no negotiated extension defines (§5.2).
	ErrUnexpectedRSV = wsread.ErrUnexpectedRSV
	// ErrUnexpectedContinuation: a continuation frame with no message in progress (§5.4).
	ErrUnexpectedContinuation = wsread.ErrUnexpectedContinuation
	// ErrExpectedContinuation: a new text or binary frame inside a fragmented message (§5.4).
	ErrExpectedContinuation = wsread.ErrExpectedContinuation
	// ErrFrameTooBig: a frame longer than the frame limit (judged from the header).
	ErrFrameTooBig = wsread.ErrFrameTooBig
	// ErrMessageTooBig: a message longer than the message limit (judged from the header).
	ErrMessageTooBig = wsread.ErrMessageTooBig
	// ErrTooManyFragments: more frames in one message than the fragment cap, empty ones
	// counted (Config.MaxFragments).
	ErrTooManyFragments = wsread.ErrTooManyFragments
	// ErrTextNotUTF8: a text message or fragment that is not valid UTF-8 (§8.1).
	ErrTextNotUTF8 = wsread.ErrTextNotUTF8
	// ErrInboundBudget: the connection was failed with 1013 (Try Again Later)
	// because a partial frame or message of its would have taken the inbound
	// bytes held by all connections past Config.MaxTotalInbound. Not the peer's
	// violation: the server's load.
	ErrInboundBudget = wsread.ErrBudget
)

// Errors reported to OnClose, returned from Conn methods, or both.
var (
	// ErrClosed: the connection is closing or closed; nothing more can be written.
	ErrClosed = wswrite.ErrClosed
	// ErrAbnormalClosure: the TCP connection ended without a close frame (reported as 1006).
	ErrAbnormalClosure = wsconn.ErrAbnormalClosure
	// ErrPeerTimeout: keepalive pinged and nothing arrived within the grace period.
	ErrPeerTimeout = wsconn.ErrPeerTimeout
	// ErrIdleTimeout: nothing arrived within the idle timeout.
	ErrIdleTimeout = wsconn.ErrIdleTimeout
	// ErrCloseTimeout: the peer did not answer our close frame within the close timeout.
	ErrCloseTimeout = wsconn.ErrCloseTimeout
	// ErrHandshakeTimeout: the opening handshake did not finish within the handshake timeout.
	ErrHandshakeTimeout = wsconn.ErrHandshakeTimeout
	// ErrWriteBufferFull: the per-connection outbound cap was reached (policy WriteBufferError).
	ErrWriteBufferFull = wswrite.ErrFull
	// ErrMessageDropped: the message was dropped because the outbound cap was reached
	// (policy WriteBufferDrop).
	ErrMessageDropped = wswrite.ErrDropped
	// ErrSlowConsumer: the connection was closed with 1008 because its outbound cap was
	// reached (policy WriteBufferClose).
	ErrSlowConsumer = wswrite.ErrSlowConsumer
	// ErrBudgetCut ends a connection (wrapped in an *IOError, reported to
	// OnClose) whose socket took part of a frame while Config.MaxTotalBuffered
	// had no room left for the rest (a write to an empty queue is not refused:
	// it costs nothing when the socket takes it whole).
	ErrBudgetCut = wswrite.ErrBudgetCut
	// ErrControlTooLong: Ping, Pong or a control frame payload over 125 bytes.
	ErrControlTooLong = wsconn.ErrControlTooLong
	// ErrInvalidCloseCode: Close with a code that may not be sent on the wire.
	ErrInvalidCloseCode = closing.ErrInvalidCode
	// ErrServerClosed: Serve or ListenAndServe after Shutdown or Close.
	ErrServerClosed = wsconn.ErrServerClosed
	// ErrClientClosed: Dial on a Client that is closed or closing.
	ErrClientClosed = wsconn.ErrClientClosed
	// ErrNotOpen: the operation needs an open connection.
	ErrNotOpen = wsconn.ErrNotOpen
	// ErrTooManyConns: the server's connection cap was reached.
	ErrTooManyConns = admit.ErrTooMany
)

// ErrHandlerPanic is the protocol-level error behind every *PanicError: its
// Code, 1011, is the close status sent (errors.Is(err, ErrHandlerPanic)).
var ErrHandlerPanic = guard.ErrPanic

// TLSError is a TLS record error that ended a connection on the loops (a
// record that failed authentication, plaintext after the handshake, a record
// over the size limit, ...): the connection sent the alert (RFC 8446 §6.2)
// and closed. It is a struct{ Err error }: Err tells which (Error and Unwrap
// are Err's).
type TLSError = wsconn.TLSError

// ErrFragmentOrder: WriteFrame with OpContinuation while no fragmented message is in
// progress, or with a new fragmented data frame while one is (RFC 6455 §5.4: the
// fragments of one message are never interleaved with another's).
var ErrFragmentOrder = wswrite.ErrFragmentOrder

// ErrBadOpcode: WriteMessage with an opcode that is not OpText or OpBinary, or
// WriteFrame with a reserved opcode or a fragmented control frame.
var ErrBadOpcode = wsconn.ErrBadOpcode
