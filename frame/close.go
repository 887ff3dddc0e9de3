package frame

import "encoding/binary"

// MaxCloseReason is the longest close reason that fits a control frame:
// 125 bytes of payload minus the 2-byte status code (RFC 6455 §5.5, §5.5.1).
const MaxCloseReason = MaxControlPayload - 2

// ParseClose decodes a close frame's payload (RFC 6455 §5.5.1) and judges it
// as §7.4 requires of a receiver:
//
//   - empty payload: (StatusNoStatusRcvd, nil, nil), the peer gave no code.
//   - 1 byte, or over 125 bytes: ErrInvalidClosePayload.
//   - a code that may not be sent (see IsValidOnWire): ErrInvalidCloseCode,
//     with the code returned for logging.
//   - a reason that is not UTF-8 (§8.1): ErrInvalidUTF8, with the code.
//
// reason aliases p: copy it to keep it after p's buffer is reused.
func ParseClose(p []byte) (code StatusCode, reason []byte, err error) {
	switch {
	case len(p) == 0:
		return StatusNoStatusRcvd, nil, nil
	case len(p) == 1 || len(p) > MaxControlPayload:
		return 0, nil, ErrInvalidClosePayload
	}
	code = StatusCode(binary.BigEndian.Uint16(p))
	if !code.IsValidOnWire() {
		return code, nil, ErrInvalidCloseCode
	}
	reason = p[2:]
	if !ValidUTF8(reason) {
		return code, nil, ErrInvalidUTF8
	}
	return code, reason, nil
}

// AppendClose appends a close frame's payload (RFC 6455 §5.5.1) to dst: the
// code in network byte order, then the reason.
//
//   - code 0 means "no status": nothing is appended (an empty close payload).
//     A reason cannot be sent without a code, so with code 0 any reason is
//     too long: ErrCloseReasonTooLong.
//   - otherwise code must be IsValidOnWire (ErrInvalidCloseCode) and reason
//     at most MaxCloseReason bytes (ErrCloseReasonTooLong).
//
// The reason is not checked for UTF-8: a peer fails the connection over an
// invalid one (§8.1), so callers taking reasons from untrusted input should
// check them (utf8.ValidString). On error dst is returned unchanged. It
// allocates only when dst lacks room.
func AppendClose(dst []byte, code StatusCode, reason string) ([]byte, error) {
	if code == 0 {
		if reason != "" {
			return dst, ErrCloseReasonTooLong
		}
		return dst, nil
	}
	if !code.IsValidOnWire() {
		return dst, ErrInvalidCloseCode
	}
	if len(reason) > MaxCloseReason {
		return dst, ErrCloseReasonTooLong
	}
	dst = append(dst, byte(code>>8), byte(code))
	return append(dst, reason...), nil
}
