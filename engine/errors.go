package engine

import (
	"errors"
	"fmt"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/admit"
	"github.com/weir-ws/weir/internal/closing"
	"github.com/weir-ws/weir/internal/tlsloop"
	"github.com/weir-ws/weir/internal/wsread"
	"github.com/weir-ws/weir/internal/wswrite"
)

// ErrNoTLSExporter is what ExportKeyingMaterial returns on the
// TLSConnectionState of a connection whose exporter was let go
// (Config.TLSDropExporter).
var ErrNoTLSExporter = tlsloop.ErrNoExporter

// CloseError is the close status of a connection: the code and reason the peer sent,
// or the ones weir sent when it failed the connection. Reads that fail because the
// connection is closed return it; use errors.As, or CloseStatus.
type CloseError struct {
	Code   frame.StatusCode
	Reason string
}

func (e *CloseError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("weir: connection closed: %d %s", uint16(e.Code), e.Code)
	}
	return fmt.Sprintf("weir: connection closed: %d %s: %q", uint16(e.Code), e.Code, e.Reason)
}

// CloseStatus returns the close code carried by err (a *CloseError or a
// *frame.ProtocolError anywhere in its chain), or 0 when there is none.
func CloseStatus(err error) frame.StatusCode {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	var pe *frame.ProtocolError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return 0
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
	ErrAbnormalClosure = errors.New("weir: connection ended without a close frame")
	// ErrPeerTimeout: keepalive pinged and nothing arrived within the grace period.
	ErrPeerTimeout = errors.New("weir: peer did not respond to keepalive")
	// ErrIdleTimeout: nothing arrived within the idle timeout.
	ErrIdleTimeout = errors.New("weir: idle timeout")
	// ErrCloseTimeout: the peer did not answer our close frame within the close timeout.
	ErrCloseTimeout = errors.New("weir: close handshake timed out")
	// ErrHandshakeTimeout: the opening handshake did not finish within the handshake timeout.
	ErrHandshakeTimeout = errors.New("weir: handshake timed out")
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
	ErrControlTooLong = errors.New("weir: control frame payload over 125 bytes")
	// ErrInvalidCloseCode: Close with a code that may not be sent on the wire.
	ErrInvalidCloseCode = closing.ErrInvalidCode
	// ErrServerClosed: Serve or ListenAndServe after Shutdown or Close.
	ErrServerClosed = errors.New("weir: server closed")
	// ErrClientClosed: Dial on a Client that is closed or closing.
	ErrClientClosed = errors.New("weir: client closed")
	// ErrNotOpen: the operation needs an open connection.
	ErrNotOpen = errors.New("weir: connection not open")
	// ErrTooManyConns: the server's connection cap was reached.
	ErrTooManyConns = admit.ErrTooMany
)
