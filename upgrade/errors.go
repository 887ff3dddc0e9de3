package upgrade

import (
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"strconv"
)

// ErrNeedMore is returned by the scanners while the header block has not ended:
// call again with the same bytes plus whatever arrives next. It is not a failure.
var ErrNeedMore = errors.New("upgrade: need more bytes")

// CheckError is a handshake check that failed, together with the HTTP status the
// server answers with. The package's sentinels are *CheckError values, so callers
// compare with errors.Is and read the status with errors.As or [StatusOf].
type CheckError struct {
	Status int    // HTTP status of the rejection; 0 for client-side checks
	Reason string // short text, sent in the rejection body
}

func (e *CheckError) Error() string { return "upgrade: " + e.Reason }

// Request syntax and size (RFC 7230 §3).
var (
	ErrMalformed          = &CheckError{http.StatusBadRequest, "malformed HTTP header block"}
	ErrRequestLineTooLong = &CheckError{http.StatusRequestURITooLong, "request line too long"}
	ErrHeaderTooLarge     = &CheckError{http.StatusRequestHeaderFieldsTooLarge, "header block too large"}
	ErrLineTooLong        = &CheckError{http.StatusRequestHeaderFieldsTooLarge, "header line too long"}
	ErrTooManyHeaders     = &CheckError{http.StatusRequestHeaderFieldsTooLarge, "too many header fields"}
)

// Opening-handshake checks of RFC 6455 §4.2.1, in the order they run.
var (
	ErrBadMethod       = &CheckError{http.StatusMethodNotAllowed, "method must be GET"}
	ErrBadProto        = &CheckError{http.StatusBadRequest, "HTTP/1.1 or later required"}
	ErrBadHost         = &CheckError{http.StatusBadRequest, "missing or invalid Host"}
	ErrRequestBody     = &CheckError{http.StatusBadRequest, "handshake request must not have a body"}
	ErrUpgradeRequired = &CheckError{http.StatusUpgradeRequired, "Upgrade: websocket required"} // no Upgrade field: a plain GET
	ErrBadUpgrade      = &CheckError{http.StatusBadRequest, "Upgrade must contain websocket"}
	ErrBadConnection   = &CheckError{http.StatusBadRequest, "Connection must contain upgrade"}
	ErrBadKey          = &CheckError{http.StatusBadRequest, "Sec-WebSocket-Key must be base64 of 16 bytes"}
	ErrBadVersion      = &CheckError{http.StatusUpgradeRequired, "Sec-WebSocket-Version must be 13 or 8"}
	ErrBadSubprotocols = &CheckError{http.StatusBadRequest, "malformed Sec-WebSocket-Protocol"}
	ErrBadExtensions   = &CheckError{http.StatusBadRequest, "malformed Sec-WebSocket-Extensions"}
)

// Server decisions.
var (
	ErrNotFound              = &CheckError{http.StatusNotFound, "no WebSocket endpoint at this path"}
	ErrOriginDenied          = &CheckError{http.StatusForbidden, "origin not allowed"}
	ErrRejected              = &CheckError{http.StatusForbidden, "rejected"}
	ErrSubprotocolNotOffered = &CheckError{http.StatusInternalServerError, "chosen subprotocol was not offered"}
	ErrBadNegotiation        = &CheckError{http.StatusInternalServerError, "extension negotiator answered with an extension that was not offered"}
	ErrVerifyTimeout         = &CheckError{http.StatusServiceUnavailable, "verification timed out"} // Upgrade: no deferred decision within HandshakeTimeout
)

// Asynchronous verification (see [Handle]).
var (
	ErrCanceled      = errors.New("upgrade: handshake canceled")
	ErrHandleDecided = errors.New("upgrade: handshake already decided")
)

// Header and client-side errors.
var (
	ErrInvalidHeader          = errors.New("upgrade: invalid header name or value")
	ErrReservedHeader         = errors.New("upgrade: header is set by the handshake itself")
	ErrBadURL                 = errors.New("upgrade: URL must be ws, wss, http or https without a fragment")
	ErrBadClientRequest       = errors.New("upgrade: invalid client request")
	ErrBadAccept              = &CheckError{0, "Sec-WebSocket-Accept does not match the key"}
	ErrUnexpectedSubprotocol  = &CheckError{0, "server chose a subprotocol that was not offered"}
	ErrUnexpectedExtension    = &CheckError{0, "server accepted an extension that was not offered"}
	ErrMalformedResponse      = &CheckError{0, "malformed HTTP response"}
	ErrResponseHeaderTooLarge = &CheckError{0, "response header block too large"}
)

// StatusOf returns the HTTP status that answers err: the Status of a *CheckError or
// *HandshakeError in its chain, 0 for nil, and 500 for anything else.
func StatusOf(err error) int {
	if err == nil {
		return 0
	}
	var ce *CheckError
	if errors.As(err, &ce) && ce.Status != 0 {
		return ce.Status
	}
	var he *HandshakeError
	if errors.As(err, &he) {
		return he.Status
	}
	return http.StatusInternalServerError
}

// DefaultErrorBodyLimit caps the body kept from a non-101 answer, like ws's
// 'unexpected-response' and WebSocket-Node's 'httpResponse' give access to it.
const DefaultErrorBodyLimit = 4 << 10

// HandshakeError describes a handshake that ended in an HTTP answer other than
// 101. A client gets it for a non-101 response; the net/http adapter returns it for
// a request it rejected. Err, when set, is the sentinel behind the rejection, so
// errors.Is(err, ErrOriginDenied) works through it.
type HandshakeError struct {
	Status int         // HTTP status code
	Reason string      // X-WebSocket-Reject-Reason if present, else the reason phrase
	Header http.Header // response headers (client side) or rejection headers
	Body   []byte      // at most the limit given to ReadBody
	Err    error

	contentLength int64 // -1 when unknown
	chunked       bool
}

func (e *HandshakeError) Error() string {
	s := "upgrade: handshake failed: " + strconv.Itoa(e.Status)
	if t := http.StatusText(e.Status); t != "" {
		s += " " + t
	}
	if e.Reason != "" && e.Reason != http.StatusText(e.Status) {
		s += ": " + e.Reason
	}
	return s
}

func (e *HandshakeError) Unwrap() error { return e.Err }

// ReadBody reads the body of a non-101 response from r into e.Body, bounded by
// limit (DefaultErrorBodyLimit when limit <= 0), honouring Content-Length and
// chunked framing. Pass the bytes that followed the header block first, e.g.
// io.MultiReader(bytes.NewReader(buf[n:]), conn), and set a read deadline on conn:
// a server that sends no length is read until EOF or the limit.
func (e *HandshakeError) ReadBody(r io.Reader, limit int) error {
	if limit <= 0 {
		limit = DefaultErrorBodyLimit
	}
	switch {
	case e.chunked:
		r = httputil.NewChunkedReader(r)
	case e.contentLength >= 0:
		r = io.LimitReader(r, e.contentLength)
	}
	room := int64(limit - len(e.Body))
	if room <= 0 {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(r, room))
	e.Body = append(e.Body, b...)
	if errors.Is(err, io.ErrUnexpectedEOF) && len(b) > 0 {
		return nil
	}
	return err
}
