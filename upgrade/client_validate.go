package upgrade

import (
	"net/http"
	"strings"
)

// ClientResult is what a validated 101 settled.
type ClientResult struct {
	// Subprotocol is the server's choice, one of ClientRequest.Subprotocols
	// (the request's own string, so nothing is allocated), or "".
	Subprotocol string
	// Extensions are the extensions the server accepted, with parameters, in
	// its order. They alias the response buffer and the Response's storage.
	Extensions []ExtensionOffer
}

// ValidateResponse checks a scanned response against the request that was sent
// (RFC 6455 §4.1, the client's steps after the response): status 101, HTTP/1.1
// or later, Upgrade: websocket, Connection: upgrade, the accept hash of
// req.Key, a subprotocol among those offered (or none) and only offered
// extensions.
//
// A status other than 101 is returned as *HandshakeError with the status,
// reason and headers (ws's 'unexpected-response', WebSocket-Node's
// 'httpResponse'); read its body with HandshakeError.ReadBody. Other failures
// are sentinels: ErrMalformedResponse, ErrBadUpgrade, ErrBadConnection,
// ErrBadAccept, ErrUnexpectedSubprotocol, ErrBadExtensions,
// ErrUnexpectedExtension.
func ValidateResponse(req *ClientRequest, resp *Response) (ClientResult, error) {
	var res ClientResult
	b := &resp.hb
	if !resp.parsed {
		return res, ErrMalformedResponse
	}
	if resp.status != http.StatusSwitchingProtocols {
		he := &HandshakeError{Status: resp.status, Reason: resp.Reason(), Header: resp.HTTPHeader()}
		if r := he.Header.Get("X-WebSocket-Reject-Reason"); r != "" {
			he.Reason = r
		} else {
			he.Reason = strings.Clone(he.Reason)
		}
		he.contentLength, he.chunked = resp.bodyFraming()
		return res, he
	}
	if resp.major != 1 || resp.minor < 1 {
		return res, ErrMalformedResponse
	}
	// RFC 6455 §4.1: the client MUST fail a response whose Upgrade is not
	// "websocket" (any case), so one field with that value alone: a server
	// naming another protocol too has not said which one it switched to.
	// (A request's Upgrade may list several, §4.2.1; that is check.go's.)
	// Upgrade is a list (RFC 9110 §7.8), whose empty elements a recipient
	// ignores (§5.6.1): ", websocket" names websocket alone.
	if b.count[hUpgrade] != 1 || !soleToken(b.get(hUpgrade), "websocket") {
		return res, ErrBadUpgrade
	}
	if !b.anyHasToken(hConnection, "upgrade") {
		return res, ErrBadConnection
	}
	want := acceptKey(bstr(req.Key[:]))
	if b.count[hAccept] != 1 || b.get(hAccept) != bstr(want[:]) {
		return res, ErrBadAccept
	}
	switch b.count[hProtocol] {
	case 0:
	case 1:
		p := b.get(hProtocol)
		i := indexOffered(req.Subprotocols, p, false)
		if i < 0 {
			return res, ErrUnexpectedSubprotocol
		}
		res.Subprotocol = req.Subprotocols[i]
	default:
		return res, ErrUnexpectedSubprotocol
	}
	if b.first[hExtensions] >= 0 {
		// From scratch: an earlier call on resp left its list here.
		resp.exts, resp.params = resp.exts[:0], resp.params[:0]
		for _, f := range b.fields[b.first[hExtensions]:] {
			if f.id != hExtensions {
				continue
			}
			var err error
			if resp.exts, resp.params, err = appendExtensions(resp.exts, resp.params, b.str(f.value)); err != nil {
				return res, ErrBadExtensions
			}
		}
		for _, e := range resp.exts {
			if !offered(req.Extensions, e.Name) {
				return res, ErrUnexpectedExtension
			}
		}
		res.Extensions = resp.exts
	}
	return res, nil
}
