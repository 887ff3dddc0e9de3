package frame

import "strconv"

// StatusCode is a close status code (RFC 6455 §7.4).
type StatusCode uint16

// Status codes defined by RFC 6455 §7.4.1 and the IANA WebSocket Close Code
// Number Registry (1012-1014).
const (
	StatusNormalClosure           StatusCode = 1000
	StatusGoingAway               StatusCode = 1001
	StatusProtocolError           StatusCode = 1002
	StatusUnsupportedData         StatusCode = 1003
	StatusNoStatusRcvd            StatusCode = 1005 // never on the wire: the close frame had no payload
	StatusAbnormalClosure         StatusCode = 1006 // never on the wire: the connection dropped without a close frame
	StatusInvalidFramePayloadData StatusCode = 1007
	StatusPolicyViolation         StatusCode = 1008
	StatusMessageTooBig           StatusCode = 1009
	StatusMandatoryExtension      StatusCode = 1010
	StatusInternalError           StatusCode = 1011
	StatusServiceRestart          StatusCode = 1012
	StatusTryAgainLater           StatusCode = 1013
	StatusBadGateway              StatusCode = 1014
	StatusTLSHandshake            StatusCode = 1015 // never on the wire: TLS handshake failure
)

// statusNames holds the names of 1000-1015 so that String does not allocate
// for them; "" marks the unassigned 1004.
var statusNames = [...]string{
	"normal closure",
	"going away",
	"protocol error",
	"unsupported data",
	"",
	"no status received",
	"abnormal closure",
	"invalid frame payload data",
	"policy violation",
	"message too big",
	"mandatory extension",
	"internal error",
	"service restart",
	"try again later",
	"bad gateway",
	"TLS handshake",
}

// String returns the code's name from RFC 6455 §7.4.1 for logs and errors.
// Codes without a name are formatted as "StatusCode(N)", which allocates.
func (c StatusCode) String() string {
	if i := int(c) - int(StatusNormalClosure); i >= 0 && i < len(statusNames) && statusNames[i] != "" {
		return statusNames[i]
	}
	return "StatusCode(" + strconv.FormatUint(uint64(c), 10) + ")"
}

// IsValidOnWire reports whether c may appear in a close frame (RFC 6455
// §7.4.1, §7.4.2): the defined codes except the ones reserved for reporting
// (1005, 1006, 1015) and the unassigned 1004, and the 3000-4999 ranges for
// libraries and applications. A received close frame with any other code
// fails the connection.
func (c StatusCode) IsValidOnWire() bool {
	switch {
	case c >= 1000 && c <= 1003:
		return true
	case c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}
