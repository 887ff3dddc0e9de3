package upgrade

import (
	"context"
	"net/http"
	"sync"
)

type decState uint8

const (
	decAccept decState = iota
	decRejected
	decDeferred
)

// Decision is what the verify hook answers with. Doing nothing accepts; Reject
// refuses; Defer hands the decision to another goroutine. It lives inside the
// Request, so the synchronous answers allocate nothing, and it is valid only
// during the hook.
type Decision struct {
	req    *Request
	u      *Upgrader
	notify Notifier
	state  decState
	status int
	reason string
	sub    string
	subSet bool
	user   any
	keep   Keep
	handle *Handle
}

func (d *Decision) reset(req *Request, u *Upgrader, n Notifier) {
	*d = Decision{req: req, u: u, notify: n}
}

// Reject refuses the handshake with status (300–599; anything else becomes 403)
// and reason, which is sent in the X-WebSocket-Reject-Reason header (CR and LF
// removed) and as the body. Add fields such as Retry-After with Header().Add.
// Keep the reason free of internals: the client reads it.
func (d *Decision) Reject(status int, reason string) {
	d.state, d.status, d.reason = decRejected, rejectStatus(status), reason
}

func rejectStatus(s int) int {
	if s < 300 || s > 599 {
		return http.StatusForbidden
	}
	return s
}

// SetSubprotocol chooses the subprotocol ("" for none), overriding the
// Upgrader's Subprotocols and SelectSubprotocol. It must be one the client
// offered (see Upgrader.SubprotocolsCaseInsensitive), else the handshake fails
// with ErrSubprotocolNotOffered.
func (d *Decision) SetSubprotocol(name string) { d.sub, d.subSet = name, true }

// Header returns the response header list: lines added here go into the 101 (for
// example Set-Cookie) or into the rejection (for example Retry-After).
func (d *Decision) Header() *ResponseHeader { return &d.req.resp }

// SetUserValue attaches v to the connection (Result.UserValue). A pointer keeps
// the handshake allocation-free.
func (d *Decision) SetUserValue(v any) { d.user = v }

// Keep asks for copies of request fields in the Result, for connections that
// need them after the handshake buffer is gone (allocates).
func (d *Decision) Keep(k Keep) { d.keep |= k }

// Defer answers later: it returns a Handle owning a copy of the request, and the
// handshake returns with Result.Pending set and nothing written. Call
// Handle.Accept or Handle.Reject from any goroutine, for instance after an auth
// lookup, which must not run on an engine worker. Anything else set on the
// Decision is dropped; the Handle's answer is the whole answer. Defer allocates.
func (d *Decision) Defer() *Handle {
	if d.handle == nil {
		parent := context.Background()
		if hr := d.req.httpReq; hr != nil {
			parent = hr.Context()
		}
		ctx, cancel := context.WithCancelCause(parent)
		d.handle = &Handle{u: d.u, req: d.req.Clone(), notify: d.notify, ctx: ctx, cancel: cancel}
	}
	d.state = decDeferred
	return d.handle
}

// Notifier is told when a deferred handshake has been decided. HandshakeDecided
// runs on the goroutine that called Handle.Accept or Handle.Reject, possibly
// before Handshake has even returned; it should only schedule the connection
// (for instance queue it to its worker), which then calls Handle.Finish. A
// pointer to the engine's connection satisfies it without allocating.
type Notifier interface {
	HandshakeDecided(h *Handle)
}

// Acceptance is a deferred accept's answer.
type Acceptance struct {
	// Subprotocol is the chosen subprotocol; "" leaves the choice to the
	// Upgrader's Subprotocols or SelectSubprotocol.
	Subprotocol string
	// Header holds extra 101 fields, e.g. Set-Cookie.
	Header http.Header
	// UserValue becomes Result.UserValue.
	UserValue any
	// Keep asks for request copies in the Result.
	Keep Keep
}

type handleState uint8

const (
	hPending handleState = iota
	hAccepted
	hRejected
	hCanceled
	hFinished
)

// Handle is a handshake whose verify hook deferred its decision. The user answers
// with Accept or Reject from any goroutine; the engine cancels it when the peer
// disconnects or the handshake times out, and appends the answer with Finish
// once its Notifier fires. Exactly one of Accept, Reject and Cancel wins; the
// others return an error (or false).
type Handle struct {
	u      *Upgrader
	req    *Request
	notify Notifier
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu     sync.Mutex
	state  handleState
	acc    Acceptance
	status int
	reason string
	hdr    http.Header
	cause  error
}

// Request returns the handle's own copy of the request; it stays valid for the
// handle's life.
func (h *Handle) Request() *Request { return h.req }

// Context is canceled when the handshake is canceled (context.Cause tells why)
// or decided, so a lookup in progress can stop early. Under the net/http adapter
// it also ends with the http.Request's context.
func (h *Handle) Context() context.Context { return h.ctx }

// Accept accepts the handshake. It checks a first and returns
// ErrSubprotocolNotOffered, ErrInvalidHeader or ErrReservedHeader without
// deciding, so the caller can fix its answer; ErrCanceled if the engine canceled
// the handshake; ErrHandleDecided if it was already decided.
func (h *Handle) Accept(a Acceptance) error {
	if a.Subprotocol != "" && indexOffered(h.req.protos, a.Subprotocol, h.u != nil && h.u.SubprotocolsCaseInsensitive) < 0 {
		return ErrSubprotocolNotOffered
	}
	if err := checkHeader(a.Header); err != nil {
		return err
	}
	return h.decide(hAccepted, func() { h.acc = a })
}

// Reject refuses the handshake with status (300–599, else 403), reason (header
// and body, as in Decision.Reject) and extra header fields such as Retry-After.
// Errors are those of Accept.
func (h *Handle) Reject(status int, reason string, hdr http.Header) error {
	if err := checkHeader(hdr); err != nil {
		return err
	}
	return h.decide(hRejected, func() { h.status, h.reason, h.hdr = rejectStatus(status), reason, hdr })
}

func checkHeader(hdr http.Header) error {
	for k, vs := range hdr {
		for _, v := range vs {
			if err := checkField(k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func (h *Handle) decide(to handleState, set func()) error {
	h.mu.Lock()
	switch h.state {
	case hPending:
	case hCanceled:
		h.mu.Unlock()
		return ErrCanceled
	default:
		h.mu.Unlock()
		return ErrHandleDecided
	}
	h.state = to
	set()
	h.mu.Unlock()
	h.cancel(ErrHandleDecided)
	if h.notify != nil {
		h.notify.HandshakeDecided(h)
	}
	return nil
}

// Cancel abandons a pending handshake, for the engine when the peer has gone or
// the handshake timed out; cause (ErrCanceled if nil) is what a later Finish
// reports and what context.Cause(h.Context()) returns. It returns false if the
// handshake was already decided or canceled. No Notifier call follows.
func (h *Handle) Cancel(cause error) bool {
	if cause == nil {
		cause = ErrCanceled
	}
	h.mu.Lock()
	if h.state != hPending {
		h.mu.Unlock()
		return false
	}
	h.state, h.cause = hCanceled, cause
	h.mu.Unlock()
	h.cancel(cause)
	return true
}

// Finish appends the decided answer to dst, running the rest of the handshake
// (subprotocol, extensions, response hook) on the calling goroutine, and returns
// the Result as Handshake would have. It appends nothing and returns
// Result.Pending while undecided, Result.Err = the cause after Cancel, and
// Result.Err = ErrHandleDecided when called again.
func (h *Handle) Finish(dst []byte) ([]byte, Result) {
	h.mu.Lock()
	st := h.state
	if st != hPending {
		h.state = hFinished
	}
	h.mu.Unlock()
	req, u := h.req, h.u
	switch st {
	case hPending:
		return dst, Result{Pending: h, Version: req.version}
	case hCanceled:
		return dst, Result{Err: h.cause, Version: req.version}
	case hFinished:
		return dst, Result{Err: ErrHandleDecided, Version: req.version}
	}
	req.resp.reset()
	d := &req.dec
	d.reset(req, u, nil)
	req.resp.addPreset(req.preset)
	if st == hRejected {
		_ = req.resp.addHTTP(h.hdr) // checked by Reject
		return u.reject(req, dst, h.status, h.reason, ErrRejected)
	}
	_ = req.resp.addHTTP(h.acc.Header) // checked by Accept
	d.sub, d.subSet = h.acc.Subprotocol, h.acc.Subprotocol != ""
	d.user, d.keep = h.acc.UserValue, h.acc.Keep
	return u.accept(req, dst, d)
}
