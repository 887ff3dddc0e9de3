package uring

import "errors"

// ErrUnknown is the outcome of a send the ring could not report (its Send
// failed): part of it may be on the wire, so the connection cannot go on.
var ErrUnknown = errors.New("uring: send outcome unknown")
