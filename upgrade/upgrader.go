package upgrade

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Upgrader is the server's handshake policy. The zero value (and a nil
// *Upgrader) is ready: default limits, any path, same-origin only, no verify
// hook, no subprotocol, no extensions, no trusted proxies. An Upgrader is read
// concurrently by every worker; do not change it while handshakes run.
type Upgrader struct {
	// Limits caps the request scanner; zero fields mean the defaults.
	Limits Limits

	// Path, when set, is the only path served; other paths get 404. It is
	// compared with the unescaped path (Request.Path), query excluded.
	Path string
	// ShouldHandle, when set, replaces Path: false answers 404 (ws's
	// shouldHandle).
	ShouldHandle func(r *Request) bool

	// OriginPatterns lists extra origins allowed besides the same host, as
	// case-insensitive globs ('*' any run, '?' one byte) matched against the
	// origin's host[:port], or against the whole origin when the pattern holds
	// "://" (like coder/websocket). Example: "*.example.com", "localhost:*".
	// The opaque origin "null" (sandboxed frames, file: pages) matches no
	// pattern; allow it with CheckOrigin if you must.
	OriginPatterns []string
	// CheckOrigin, when set, replaces the origin policy entirely; false answers
	// 403. Use func(*Request) bool { return true } to allow every origin.
	CheckOrigin func(r *Request) bool

	// Verify decides on a request that passed the checks, the path filter and
	// the origin policy. It runs on the goroutine calling Handshake (an engine
	// worker): it must not block. To decide later, call d.Defer. Nil accepts.
	Verify func(r *Request, d *Decision)

	// Subprotocols is the server's preference list: the first entry the client
	// offered is chosen. Result.Subprotocol is then the entry itself, so nothing
	// is allocated.
	Subprotocols []string
	// SelectSubprotocol, when set, replaces Subprotocols: it returns one of
	// r.Subprotocols() or "" for none. A pick that was not offered fails the
	// handshake with ErrSubprotocolNotOffered (500) and is never sent.
	SelectSubprotocol func(r *Request) string
	// SubprotocolsCaseInsensitive matches picks against offers ignoring ASCII
	// case, as WebSocket-Node does; the 101 echoes the client's spelling.
	SubprotocolsCaseInsensitive bool

	// Extensions negotiates Sec-WebSocket-Extensions; nil declines them all.
	Extensions ExtensionNegotiator

	// OnResponseHeader sees the complete 101 header list before it is written
	// and may add, change or remove fields other than the handshake's own (ws's
	// 'headers' event). Not called for rejections.
	OnResponseHeader func(r *Request, h *ResponseHeader)

	// OnHandshakeError, when set, is told about every handshake refused with an
	// HTTP answer: a failed RFC 6455 check (a plain GET's 426 among them), the
	// path filter, the origin policy, the verify hook (at once or deferred), a
	// failed subprotocol or extension choice, a deferred decision that timed
	// out in Upgrade, and the refusals a server makes around the handshake and
	// reports through Refuse or RefuseHTTP (a request Parse refused, a server
	// over its connection limits). For logs and per-reason counters: err
	// holds the answer's Status, Reason, Header and Body, and in Err the
	// sentinel behind it (errors.Is(err, ErrOriginDenied)). peer is the TCP
	// peer; r is the *http.Request through Upgrade and RefuseHTTP, nil on the
	// raw path. It only observes: the answer is written as it would be
	// without it (on the raw path after it returns). It runs on the goroutine
	// that refused: on the raw path an engine worker (or the connection's
	// reader in goroutine mode), which serves other connections meanwhile, so
	// it must not block for long (hand slow work to a goroutine of your own);
	// through Upgrade the net/http handler's goroutine. Handshakes that end
	// with no answer (the client left, the raw path's handshake timeout) are
	// not reported. err is the hook's to keep.
	OnHandshakeError func(peer netip.AddrPort, r *http.Request, err *HandshakeError)

	// HandshakeTimeout bounds Upgrade, the net/http path, from the moment it
	// is called (gorilla's Upgrader.HandshakeTimeout): a deferred verify
	// decision not made by then is answered 503 (ErrVerifyTimeout), and the
	// 101 is written under a write deadline at that moment, cleared once it
	// is out. Zero or negative: no bound. Handshake, the raw path, does not
	// use it (the caller times its connection). An engine.Server fills it from
	// Config.HandshakeTimeout when it is zero.
	HandshakeTimeout time.Duration

	// TrustedProxies are the peers whose forwarding header Request.ClientIP
	// believes. Empty trusts nobody.
	TrustedProxies []netip.Prefix
	// ClientIPHeader names the forwarding header: "X-Forwarded-For" when empty,
	// "Forwarded" for RFC 7239, or any comma-separated address list header.
	ClientIPHeader string
}

// Keep selects request fields that Result copies out for the connection to keep.
type Keep uint8

const (
	KeepPath     Keep = 1 << iota // Result.Path
	KeepRawQuery                  // Result.RawQuery
	KeepHeader                    // Result.Header (every request header)
)

// Result is the outcome of a handshake: what to do with the connection and what
// it keeps.
type Result struct {
	// Status is 101 when accepted, the rejection status otherwise, and 0 while
	// Pending.
	Status int
	// Err says why a handshake was rejected (a *CheckError sentinel such as
	// ErrOriginDenied, or ErrRejected from the verify hook); nil when accepted.
	Err error
	// Pending is set when the verify hook deferred its answer; see Handle.
	Pending *Handle

	Version     int    // 13 or 8
	Subprotocol string // chosen subprotocol, "" for none
	Extensions  any    // what the ExtensionNegotiator returned
	UserValue   any    // what the verify hook attached

	// Copies made when the verify hook asked with Decision.Keep.
	Path, RawQuery string
	Header         http.Header
}

// Accepted reports whether the 101 was written.
func (r Result) Accepted() bool { return r.Status == http.StatusSwitchingProtocols }

// Parse scans the request header block with u's limits; see [ParseRequest].
func (u *Upgrader) Parse(buf []byte, req *Request) (int, error) {
	var lim *Limits
	if u != nil {
		lim = &u.Limits
	}
	return ParseRequest(buf, req, lim)
}

// Handshake decides on a request scanned by Parse and appends the answer to dst:
// the 101 when accepted, otherwise a rejection with Connection: close and a short
// body. The steps, in order: the RFC 6455 checks, the path filter (404), the
// origin policy (403), the verify hook, subprotocol selection, extension
// negotiation, the response hook.
//
// peer is the TCP peer (Request.Peer; ClientIP starts from it). notify is told,
// from the goroutine that answers, when a deferred decision is made; with nil
// nobody is told, but Handle.Context still ends at the decision. When Result.Pending is set nothing was
// appended: the Handle owns a copy of the request, so req and its buffer are
// free for reuse at once; once notified, call Handle.Finish to append the
// answer.
//
// The accepting path allocates nothing unless the hook asks (Keep, a
// subprotocol string that aliases the request, Defer).
func (u *Upgrader) Handshake(req *Request, peer netip.AddrPort, dst []byte, notify Notifier) ([]byte, Result) {
	return u.handshake(req, peer, dst, notify)
}

func (u *Upgrader) handshake(req *Request, peer netip.AddrPort, dst []byte, notify Notifier) ([]byte, Result) {
	req.peer = peer
	if !req.parsed {
		return u.reject(req, dst, ErrMalformed.Status, ErrMalformed.Reason, ErrMalformed)
	}
	if u != nil {
		req.trusted, req.ipHeader = u.TrustedProxies, u.ClientIPHeader
	}
	req.resp.reset()
	req.resp.addPreset(req.preset)
	d := &req.dec
	d.reset(req, u, notify)
	if err := req.check(); err != nil {
		return u.reject(req, dst, err.Status, err.Reason, err)
	}
	if !u.handles(req) {
		return u.reject(req, dst, ErrNotFound.Status, ErrNotFound.Reason, ErrNotFound)
	}
	if !u.originAllowed(req) {
		return u.reject(req, dst, ErrOriginDenied.Status, ErrOriginDenied.Reason, ErrOriginDenied)
	}
	if u != nil && u.Verify != nil {
		u.Verify(req, d)
		switch d.state {
		case decRejected:
			return u.reject(req, dst, d.status, d.reason, ErrRejected)
		case decDeferred:
			return dst, Result{Pending: d.handle, Version: req.version}
		}
	}
	return u.accept(req, dst, d)
}

func (u *Upgrader) handles(r *Request) bool {
	switch {
	case u == nil:
		return true
	case u.ShouldHandle != nil:
		return u.ShouldHandle(r)
	}
	return u.Path == "" || r.path() == u.Path
}

func (u *Upgrader) reject(req *Request, dst []byte, status int, reason string, err error) ([]byte, Result) {
	req.rejReason = reason
	dst = appendReject(dst, status, reason, err, &req.resp)
	if u != nil && u.OnHandshakeError != nil && req.httpReq == nil {
		// The raw path. Through Upgrade the hook is told when the answer is
		// written (httpReject).
		u.OnHandshakeError(req.peer, nil, rejection(make(http.Header), status, reason, err, &req.resp))
	}
	return dst, Result{Status: status, Err: err, Version: req.version}
}

// Refuse appends the rejection answering err and tells OnHandshakeError, for
// refusals made around Handshake on the raw path: a request Parse refused
// (where [AppendError] answers the same without the hook), or one the server
// turns away itself, such as while shutting down. err is a *CheckError (its
// status and reason), a *HandshakeError (its Status, Reason, the fields of its
// Header, and Err as the cause), or anything else (500). peer is the TCP peer.
func (u *Upgrader) Refuse(dst []byte, peer netip.AddrPort, err error) []byte {
	status, reason, cause, extra := refusal(err)
	dst = appendReject(dst, status, reason, cause, extra)
	if u != nil && u.OnHandshakeError != nil {
		u.OnHandshakeError(peer, nil, rejection(make(http.Header), status, reason, cause, extra))
	}
	return dst
}

// refusal splits an error given to Refuse or RefuseHTTP into the parts of a
// rejection.
func refusal(err error) (status int, reason string, cause error, extra *ResponseHeader) {
	switch e := err.(type) {
	case *CheckError:
		return StatusOf(e), e.Reason, e, nil
	case *HandshakeError:
		status, cause = e.Status, e.Err
		if status < 300 || status > 599 {
			status = http.StatusInternalServerError
		}
		if cause == nil {
			cause = e
		}
		if len(e.Header) > 0 {
			extra = &ResponseHeader{}
			extra.addPreset(e.Header) // the handshake's own fields are skipped
		}
		return status, e.Reason, cause, extra
	}
	return StatusOf(err), "", err, nil
}

func (u *Upgrader) rejectErr(req *Request, dst []byte, err error) ([]byte, Result) {
	reason := ""
	if ce, ok := err.(*CheckError); ok {
		reason = ce.Reason
	}
	return u.reject(req, dst, StatusOf(err), reason, err)
}

// accept settles subprotocol and extensions, runs the response hook and appends
// the 101 (RFC 6455 §4.2.2 step 5). d holds what the verify hook (or the async
// Accept) chose; the user's header lines are already in req.resp.
func (u *Upgrader) accept(req *Request, dst []byte, d *Decision) ([]byte, Result) {
	keep, wire, err := u.selectSubprotocol(req, d.sub, d.subSet)
	if err != nil {
		return u.rejectErr(req, dst, err)
	}
	if !req.owned && aliases(keep, req.hb.buf) {
		keep = strings.Clone(keep) // the client's spelling, a view of the buffer
	}
	var accepted any
	var extHdr string
	if u != nil && u.Extensions != nil && len(req.exts) > 0 {
		req.own() // the offers' strings reach the negotiator, which may keep them
		out, acc, err := u.Extensions.NegotiateExtensions(req.exts, req.extOut[:0])
		if err != nil {
			return u.rejectErr(req, dst, err)
		}
		req.extOut = out
		if len(out) > 0 {
			extHdr = bstr(out)
			if !validFieldValue(extHdr) || !extensionNamesOffered(extHdr, req.exts) {
				return u.rejectErr(req, dst, ErrBadNegotiation)
			}
		}
		accepted = acc
	}

	// The handshake's own fields go first, then what the verify hook added.
	user := len(req.resp.kv)
	req.accept = acceptKey(req.hb.get(hKey))
	h := &req.resp
	h.kv = append(h.kv,
		kv{"Upgrade", "websocket"},
		kv{"Connection", "Upgrade"},
		kv{"Sec-WebSocket-Accept", bstr(req.accept[:])})
	if wire != "" {
		h.kv = append(h.kv, kv{"Sec-WebSocket-Protocol", wire})
	}
	if extHdr != "" {
		h.kv = append(h.kv, kv{"Sec-WebSocket-Extensions", extHdr})
	}
	rotate(h.kv, user)
	if u != nil && u.OnResponseHeader != nil {
		u.OnResponseHeader(req, h)
	}
	dst = appendSwitching(dst, h)

	res := Result{
		Status:      http.StatusSwitchingProtocols,
		Version:     req.version,
		Subprotocol: keep,
		Extensions:  accepted,
		UserValue:   d.user,
	}
	if d.keep&KeepPath != 0 {
		res.Path = strings.Clone(req.path())
	}
	if d.keep&KeepRawQuery != 0 {
		res.RawQuery = strings.Clone(req.rawQuery())
	}
	if d.keep&KeepHeader != 0 {
		res.Header = req.HTTPHeader()
	}
	return dst, res
}

// rotate moves s[k:] in front of s[:k] in place.
func rotate(s []kv, k int) {
	slices.Reverse(s[:k])
	slices.Reverse(s[k:])
	slices.Reverse(s)
}
