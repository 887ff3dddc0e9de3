package frame

import "errors"

// ProtocolError is a violation of RFC 6455 by the peer. Code is the status
// the engine should close the connection with (§7.4.1); every error the
// package returns for bad input is one of the sentinels below, so callers
// compare with errors.Is and read the code with errors.As.
type ProtocolError struct {
	Code   StatusCode
	Reason string
}

// Error returns the reason prefixed with the package name.
func (e *ProtocolError) Error() string { return "frame: " + e.Reason }

// ErrShortHeader means the buffer holds only part of a frame header.
// It is not a protocol error: ParseHeader returns with it the number of bytes
// the header needs, and the caller reads more and parses again.
var ErrShortHeader = errors.New("frame: short header")

// Sentinel protocol errors. Code 1002 (protocol error) unless noted.
var (
	// ErrReservedOpcode: a frame used an opcode RFC 6455 §5.2 reserves.
	ErrReservedOpcode = &ProtocolError{StatusProtocolError, "reserved opcode"}
	// ErrFragmentedControl: a control frame without FIN (§5.5).
	ErrFragmentedControl = &ProtocolError{StatusProtocolError, "fragmented control frame"}
	// ErrControlTooLong: a control frame announced more than 125 payload bytes (§5.5).
	ErrControlTooLong = &ProtocolError{StatusProtocolError, "control frame payload over 125 bytes"}
	// ErrLengthOverflow: a 64-bit payload length with the most significant bit set (§5.2).
	ErrLengthOverflow = &ProtocolError{StatusProtocolError, "payload length has the most significant bit set"}
	// ErrInvalidCloseCode: a close payload carried a code that may not be sent (§7.4).
	ErrInvalidCloseCode = &ProtocolError{StatusProtocolError, "invalid close status code"}
	// ErrInvalidClosePayload: a close payload of 1 byte, or over 125 bytes (§5.5.1).
	ErrInvalidClosePayload = &ProtocolError{StatusProtocolError, "invalid close payload"}
	// ErrInvalidUTF8: text or a close reason that is not UTF-8 (§8.1); code 1007.
	ErrInvalidUTF8 = &ProtocolError{StatusInvalidFramePayloadData, "invalid UTF-8"}
	// ErrCloseReasonTooLong: AppendClose was given a reason over 123 bytes,
	// which cannot fit a control frame (§5.5), or a reason without a code. It
	// is the local caller's mistake, never the peer's, so its Code is 0
	// (nothing to send).
	ErrCloseReasonTooLong = &ProtocolError{0, "close reason over 123 bytes or without a code"}
)
