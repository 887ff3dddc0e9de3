package upgrade

import (
	"errors"
	"iter"
	"net/http"
	"strconv"
	"strings"
)

// kv is one response header line.
type kv struct{ name, value string }

// ResponseHeader is the list of header lines of the handshake answer, in order.
// The verify hook adds to it (Set-Cookie on a 101, Retry-After on a rejection)
// and the response hook sees the complete 101 list and may change it (ws's
// 'headers' event). It lives inside a Request, so using it does not allocate.
//
// The handshake's own fields (Upgrade, Connection, Sec-WebSocket-Accept,
// Sec-WebSocket-Protocol, Sec-WebSocket-Extensions, Content-Length,
// Transfer-Encoding) are visible but cannot be added, changed or removed: the
// connection's state follows them. Choose the subprotocol with
// [Decision.SetSubprotocol] or [Upgrader.SelectSubprotocol] instead.
type ResponseHeader struct {
	kv []kv
}

func (h *ResponseHeader) reset() {
	clear(h.kv)
	h.kv = h.kv[:0]
}

// reservedResponse reports whether name is a field the handshake owns.
func reservedResponse(name string) bool {
	switch lookupID(name) {
	case hUpgrade, hConnection, hAccept, hProtocol, hExtensions, hContentLength, hTransferEncoding:
		return true
	}
	return false
}

func checkField(name, value string) error {
	if !isToken(name) || !validFieldValue(value) {
		return ErrInvalidHeader
	}
	if reservedResponse(name) {
		return ErrReservedHeader
	}
	return nil
}

// Get returns the first value of the named field ("" if absent).
func (h *ResponseHeader) Get(name string) string {
	for _, f := range h.kv {
		if equalFold(f.name, name) {
			return strings.Clone(f.value) // may view the Request's reused scratch
		}
	}
	return ""
}

// All yields the header lines in order.
func (h *ResponseHeader) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, f := range h.kv {
			if !yield(f.name, strings.Clone(f.value)) {
				return
			}
		}
	}
}

// Len returns the number of header lines.
func (h *ResponseHeader) Len() int { return len(h.kv) }

// Add appends a header line. It returns ErrInvalidHeader for a name that is not a
// token or a value with control characters (no CR/LF injection), and
// ErrReservedHeader for a handshake field.
func (h *ResponseHeader) Add(name, value string) error {
	if err := checkField(name, value); err != nil {
		return err
	}
	h.kv = append(h.kv, kv{name, value})
	return nil
}

// Set replaces every line of the named field with one line.
func (h *ResponseHeader) Set(name, value string) error {
	if err := checkField(name, value); err != nil {
		return err
	}
	h.del(name)
	h.kv = append(h.kv, kv{name, value})
	return nil
}

// Del removes every line of the named field.
func (h *ResponseHeader) Del(name string) error {
	if reservedResponse(name) {
		return ErrReservedHeader
	}
	h.del(name)
	return nil
}

func (h *ResponseHeader) del(name string) {
	out := h.kv[:0]
	for _, f := range h.kv {
		if !equalFold(f.name, name) {
			out = append(out, f)
		}
	}
	clear(h.kv[len(out):])
	h.kv = out
}

// addHTTP adds every field of hdr, checked.
func (h *ResponseHeader) addHTTP(hdr http.Header) error {
	for k, vs := range hdr {
		for _, v := range vs {
			if err := h.Add(k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// addPreset adds the fields a net/http handler set on its ResponseWriter before
// upgrading, skipping the handshake's own and invalid ones.
func (h *ResponseHeader) addPreset(hdr http.Header) {
	for k, vs := range hdr {
		for _, v := range vs {
			_ = h.Add(k, v)
		}
	}
}

func appendField(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

// appendSwitching appends the 101 (RFC 6455 §4.2.2 step 5) with h's lines, which
// already hold Upgrade, Connection and Sec-WebSocket-Accept.
func appendSwitching(dst []byte, h *ResponseHeader) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\n"...)
	for _, f := range h.kv {
		dst = appendField(dst, f.name, f.value)
	}
	return append(dst, "\r\n"...)
}

// maxReason bounds the reason echoed in the rejection header and body.
const maxReason = 512

var (
	methodFields = []kv{{"Allow", "GET"}}
	// A sender of Upgrade names it in Connection too (RFC 7230 §6.7), on a
	// line of its own beside close: net/http's server closes only for a
	// Connection field whose first value is exactly "close".
	upgradeFields = []kv{{"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Version", "13, 8"}}
)

// rejectFields returns the fields that go with err's status: Allow for 405
// (RFC 7231 §6.5.5); for 426, Upgrade, the upgrade connection option and the
// versions we speak (RFC 7231 §6.5.15, RFC 6455 §4.4).
func rejectFields(err error) []kv {
	switch {
	case errors.Is(err, ErrBadMethod):
		return methodFields
	case errors.Is(err, ErrBadVersion), errors.Is(err, ErrUpgradeRequired):
		return upgradeFields
	}
	return nil
}

// appendReject appends a complete rejection: status line, Connection: close, the
// status-specific fields, X-WebSocket-Reject-Reason (CR and LF removed, as
// WebSocket-Node sends it), extra lines, and a short text/plain body holding
// the reason.
func appendReject(dst []byte, status int, reason string, err error, extra *ResponseHeader) []byte {
	text := http.StatusText(status)
	if text == "" {
		text = "Error"
	}
	reason = clipReason(reason)
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, text...)
	dst = append(dst, "\r\nConnection: close\r\n"...)
	for _, f := range rejectFields(err) {
		dst = appendField(dst, f.name, f.value)
	}
	if reason != "" {
		dst = append(dst, "X-WebSocket-Reject-Reason: "...)
		dst = appendSanitized(dst, reason)
		dst = append(dst, "\r\n"...)
	}
	if extra != nil {
		for _, f := range extra.kv {
			dst = appendField(dst, f.name, f.value)
		}
	}
	body := reason
	if body == "" {
		body = text
	}
	dst = append(dst, "Content-Type: text/plain; charset=utf-8\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)+1), 10)
	dst = append(dst, "\r\n\r\n"...)
	dst = append(dst, body...)
	return append(dst, '\n')
}

// rejection describes the answer appendReject writes, as the net/http adapter
// writes it and OnHandshakeError sees it: the same fields are added to h (the
// ResponseWriter's header, or a fresh one) and the body is returned with them.
// Fields already in h stay (a handler's, on the net/http path).
func rejection(h http.Header, status int, reason string, err error, extra *ResponseHeader) *HandshakeError {
	reason = clipReason(reason)
	// In appendReject's order, so that repeated fields list their values alike.
	h.Set("Connection", "close")
	for _, f := range rejectFields(err) {
		h.Add(f.name, f.value)
	}
	if reason != "" {
		h.Set("X-WebSocket-Reject-Reason", string(appendSanitized(nil, reason)))
	}
	if extra != nil {
		for _, f := range extra.kv {
			h.Add(f.name, f.value)
		}
	}
	body := reason
	if body == "" {
		if body = http.StatusText(status); body == "" {
			body = "Error"
		}
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	return &HandshakeError{Status: status, Reason: reason, Header: h, Body: []byte(body + "\n"), Err: err}
}

// clipReason cuts reason to maxReason bytes without splitting a UTF-8 sequence.
func clipReason(reason string) string {
	if len(reason) <= maxReason {
		return reason
	}
	i := maxReason
	for i > 0 && reason[i]&0xc0 == 0x80 {
		i--
	}
	return reason[:i]
}

// appendSanitized appends s without CR and LF and with other control bytes
// turned into spaces, so it is a valid header value.
func appendSanitized(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\r' || c == '\n':
		case class[c]&cField == 0:
			dst = append(dst, ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// AppendError appends the rejection answering err, for errors from
// [ParseRequest] or [Upgrader.Parse] (a *CheckError carries its status; anything
// else is answered 500). The response closes the connection; its body is the
// check's reason. Do not call it with ErrNeedMore. [Upgrader.Refuse] does the
// same and tells the Upgrader's OnHandshakeError hook.
func AppendError(dst []byte, err error) []byte {
	reason := ""
	var ce *CheckError
	if errors.As(err, &ce) {
		reason = ce.Reason
	}
	return appendReject(dst, StatusOf(err), reason, err, nil)
}
