package wsconn

import (
	"errors"
	"fmt"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/admit"
	"github.com/weir-ws/weir/internal/wsread"
	"github.com/weir-ws/weir/internal/wswrite"
)

// CloseError is engine.CloseError (documented there).
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

// CloseStatus is engine.CloseStatus (documented there).
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

// These are engine's (documented there). The ones only engine returns, and
// the read and write sides' own, are declared there.
var (
	ErrInboundBudget    = wsread.ErrBudget
	ErrClosed           = wswrite.ErrClosed
	ErrAbnormalClosure  = errors.New("weir: connection ended without a close frame")
	ErrPeerTimeout      = errors.New("weir: peer did not respond to keepalive")
	ErrIdleTimeout      = errors.New("weir: idle timeout")
	ErrCloseTimeout     = errors.New("weir: close handshake timed out")
	ErrHandshakeTimeout = errors.New("weir: handshake timed out")
	ErrSlowConsumer     = wswrite.ErrSlowConsumer
	ErrBudgetCut        = wswrite.ErrBudgetCut
	ErrControlTooLong   = errors.New("weir: control frame payload over 125 bytes")
	ErrServerClosed     = errors.New("weir: server closed")
	ErrClientClosed     = errors.New("weir: client closed")
	ErrNotOpen          = errors.New("weir: connection not open")
	ErrTooManyConns     = admit.ErrTooMany
)
