package deflate

import (
	"errors"

	"github.com/weir-ws/weir/frame"
)

// Codec errors. Both are *frame.ProtocolError, so the engine closes the
// connection with their Code exactly as it does for framing errors
// (errors.As, engine.CloseStatus).
var (
	// ErrMessageTooBig: the message inflated past the read limit. The check
	// runs while inflating (RFC 6455 §10.4: the limit is on the data the
	// application receives), so a compression bomb stops here with at most
	// limit+1 bytes produced. Code 1009.
	ErrMessageTooBig = &frame.ProtocolError{Code: frame.StatusMessageTooBig, Reason: "inflated message over the read limit"}
	// ErrCorrupt: the payload is not valid DEFLATE data, or it refers back
	// further than the history it may use (RFC 7692 §7.2.2). Code 1007 (the
	// payload is inconsistent with its message type), as Node's ws and
	// Autobahn's reference server send for zlib's Z_DATA_ERROR.
	ErrCorrupt = &frame.ProtocolError{Code: frame.StatusInvalidFramePayloadData, Reason: "invalid compressed data"}
	// ErrBudget: DecompressBudget's Budget refused to let the output grow:
	// the process is short of memory for inbound data, not the message over
	// a limit. Code 1013 (Try Again Later).
	ErrBudget = &frame.ProtocolError{Code: frame.StatusTryAgainLater, Reason: "inflated message over the inbound budget"}
)

// Budget is what DecompressBudget charges for its output as it grows (an
// engine's inbound budget): Charge refuses what would pass its maximum,
// Refund gives back what was charged.
type Budget interface {
	Charge(n int) bool
	Refund(n int)
}

// Negotiation errors, returned by ParseParams and Options.Accept. The server
// never returns them: it declines the offer instead (RFC 7692 §5).
var (
	// ErrNotDeflate: the extension is not permessage-deflate.
	ErrNotDeflate = errors.New("deflate: not a permessage-deflate extension")
	// ErrUnknownParam: a parameter RFC 7692 §7.1 does not define.
	ErrUnknownParam = errors.New("deflate: unknown permessage-deflate parameter")
	// ErrDuplicateParam: a parameter given twice (RFC 7692 §7.1).
	ErrDuplicateParam = errors.New("deflate: duplicate permessage-deflate parameter")
	// ErrParamValue: a *_no_context_takeover parameter with a value, or a
	// window size that is not a decimal 8 to 15 without leading zeros
	// (RFC 7692 §7.1.2).
	ErrParamValue = errors.New("deflate: invalid permessage-deflate parameter value")
	// ErrBadResponse: the server's answer sets something the client's offer
	// did not allow, or fails to confirm something it asked for (RFC 7692
	// §5.1, §7.1); the client must fail the connection. Parameter syntax
	// errors in the answer wrap both this and the sentinel above.
	ErrBadResponse = errors.New("deflate: invalid permessage-deflate response")
	// ErrInvalidOptions: Options.Validate found a field out of range.
	ErrInvalidOptions = errors.New("deflate: invalid options")
)

// errSyncTail is an internal failure: the compressor's sync flush did not end
// with 0x00 0x00 0xff 0xff. It cannot happen with a working flate.Writer.
var errSyncTail = errors.New("deflate: compressor output lacks the sync flush marker")
