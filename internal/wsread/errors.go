package wsread

import "github.com/weir-ws/weir/frame"

// Violations the Reader detects beyond the header parser's own (package frame).
// The engine re-exports them under the same names, so they are the values its
// users test with errors.Is.
var (
	// ErrUnmaskedFrame: a client sent an unmasked frame (RFC 6455 §5.1).
	ErrUnmaskedFrame = &frame.ProtocolError{Code: frame.StatusProtocolError, Reason: "client frame not masked"}
	// ErrMaskedFrame: a server sent a masked frame (RFC 6455 §5.1).
	ErrMaskedFrame = &frame.ProtocolError{Code: frame.StatusProtocolError, Reason: "server frame masked"}
	// ErrUnexpectedRSV: an RSV bit is set that no negotiated extension defines (§5.2).
	ErrUnexpectedRSV = &frame.ProtocolError{Code: frame.StatusProtocolError, Reason: "unexpected RSV bit"}
	// ErrUnexpectedContinuation: a continuation frame with no message in progress (§5.4).
	ErrUnexpectedContinuation = &frame.ProtocolError{Code: frame.StatusProtocolError, Reason: "continuation frame without a message"}
	// ErrExpectedContinuation: a new text or binary frame inside a fragmented message (§5.4).
	ErrExpectedContinuation = &frame.ProtocolError{Code: frame.StatusProtocolError, Reason: "new data frame inside a fragmented message"}
	// ErrFrameTooBig: a frame longer than the frame limit (judged from the header).
	ErrFrameTooBig = &frame.ProtocolError{Code: frame.StatusMessageTooBig, Reason: "frame too big"}
	// ErrMessageTooBig: a message longer than the message limit (judged from the header).
	ErrMessageTooBig = &frame.ProtocolError{Code: frame.StatusMessageTooBig, Reason: "message too big"}
	// ErrTooManyFragments: more frames in one message than the fragment cap, empty ones counted.
	ErrTooManyFragments = &frame.ProtocolError{Code: frame.StatusPolicyViolation, Reason: "too many fragments"}
	// ErrTextNotUTF8: a text message or fragment that is not valid UTF-8 (§8.1).
	ErrTextNotUTF8 = &frame.ProtocolError{Code: frame.StatusInvalidFramePayloadData, Reason: "invalid UTF-8 in text message"}
	// ErrBudget: a partial frame's buffer would grow past Limits.Budget, the
	// bytes all connections may hold between reads. Not the peer's violation
	// but the server's load, hence 1013 Try Again Later (RFC 6455 §7.4.1 leaves
	// it to the IANA registry, which defines 1013 for a temporary condition).
	ErrBudget = &frame.ProtocolError{Code: frame.StatusTryAgainLater, Reason: "inbound buffer budget exhausted"}
)
