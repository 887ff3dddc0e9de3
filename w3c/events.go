package w3c

import (
	"errors"
	"fmt"
)

// Ready states (WHATWG WebSocket readyState).
const (
	Connecting = 0
	Open       = 1
	Closing    = 2
	Closed     = 3
)

// Errors, by the DOMException the browser would throw.
var (
	// ErrSyntax: an unusable URL or protocol list, or a close reason over 123 bytes.
	ErrSyntax = errors.New("w3c: syntax error")
	// ErrInvalidState: Send while CONNECTING.
	ErrInvalidState = errors.New("w3c: invalid state: still connecting")
	// ErrInvalidAccess: a close code other than 1000 or 3000-4999.
	ErrInvalidAccess = errors.New("w3c: invalid access: close code must be 1000 or 3000-4999")
	// ErrDataType: Send given something other than a string or a []byte.
	ErrDataType = errors.New("w3c: send takes a string or a []byte")
	// ErrBinaryType: a binary type other than "arraybuffer".
	ErrBinaryType = errors.New(`w3c: the only binary type is "arraybuffer"`)
)

func syntaxErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrSyntax}, a...)...)
}

// Event is the open event.
type Event struct {
	Target *WebSocket
}

// MessageEvent is a message received: Data is a string (text) or []byte (binary).
type MessageEvent struct {
	Target *WebSocket
	Data   any
}

// ErrorEvent says why the connection failed; a CloseEvent follows.
type ErrorEvent struct {
	Target *WebSocket
	Err    error
}

// CloseEvent is the connection's end.
type CloseEvent struct {
	Target   *WebSocket
	Code     int
	Reason   string
	WasClean bool
}
