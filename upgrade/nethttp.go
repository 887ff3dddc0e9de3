package upgrade

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

var requestPool = sync.Pool{New: func() any { return NewRequest() }}

// Upgrade runs the handshake for a request served by net/http: the same checks,
// policy and hooks as Handshake, on a Request rebuilt from r (Request.HTTPRequest
// returns r, so hooks can read r.Context() or r.PathValue). It works under
// http.Server and http.ServeMux patterns such as "GET /ws/{room}"; the path
// filter sees r.URL as the handler got it. Fields the handler set on
// w.Header() before calling go into the answer.
//
// A rejection is written through w (Connection: close), told to
// OnHandshakeError and returned as a *HandshakeError wrapping the reason's
// sentinel. On success the connection is hijacked, its deadlines cleared, the
// 101 written (within HandshakeTimeout), and the connection returned with
// head: the bytes the client sent after the request that net/http had already
// buffered (ws's `head`), which belong to the WebSocket stream. A deferred
// verify hook blocks this goroutine until the Handle is decided; it cancels
// the Handle when r's context ends (nothing is written then) or when
// HandshakeTimeout passes (answered 503, ErrVerifyTimeout).
func (u *Upgrader) Upgrade(w http.ResponseWriter, r *http.Request) (c net.Conn, head []byte, res Result, err error) {
	return u.serveHTTP(w, r)
}

// UpgradeRaw is Upgrade for WebSocket-to-WebSocket proxies (watershed's
// accept(..., true)): after the 101 the plain connection is handed back with
// nothing attached, and bytes already buffered past the request are returned by
// its first reads. With nothing buffered it is the hijacked connection itself,
// so io.Copy to a backend TCP connection can still splice.
func (u *Upgrader) UpgradeRaw(w http.ResponseWriter, r *http.Request) (net.Conn, Result, error) {
	c, head, res, err := u.serveHTTP(w, r)
	if err != nil {
		return nil, res, err
	}
	if len(head) > 0 {
		c = &prefixConn{Conn: c, head: head}
	}
	return c, res, nil
}

// RefuseHTTP is [Upgrader.Refuse] for a net/http handler that turns a request
// away before calling Upgrade (a server over its connection limits, say): it
// writes the rejection through w as Upgrade writes its own, tells
// OnHandshakeError, and returns the *HandshakeError.
func (u *Upgrader) RefuseHTTP(w http.ResponseWriter, r *http.Request, err error) error {
	status, reason, cause, extra := refusal(err)
	return u.writeReject(w, r, status, reason, cause, extra)
}

func (u *Upgrader) serveHTTP(w http.ResponseWriter, r *http.Request) (net.Conn, []byte, Result, error) {
	var deadline time.Time
	if u != nil && u.HandshakeTimeout > 0 {
		deadline = time.Now().Add(u.HandshakeTimeout)
	}
	req := requestPool.Get().(*Request)
	defer func() {
		req.reset()
		requestPool.Put(req)
	}()
	if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
		return u.httpReject(w, r, req, Result{Status: ErrRequestBody.Status, Err: ErrRequestBody}, ErrRequestBody.Reason)
	}
	req.scratch = appendHTTPRequest(req.scratch[:0], r)
	if _, err := u.Parse(req.scratch, req); err != nil {
		if err == ErrNeedMore {
			err = ErrMalformed
		}
		ce, _ := err.(*CheckError)
		reason := ""
		if ce != nil {
			reason = ce.Reason
		}
		return u.httpReject(w, r, req, Result{Status: StatusOf(err), Err: err}, reason)
	}
	req.httpReq = r
	// Fields the handler set on w move into the handshake's header list, so
	// the hooks see them and they are written once.
	if len(w.Header()) > 0 {
		req.preset = w.Header().Clone()
		clear(w.Header())
	}
	notify := make(chanNotifier, 1)
	out, res := u.handshake(req, httpPeer(r), nil, notify)
	active := req
	if h := res.Pending; h != nil {
		var expired <-chan time.Time
		if !deadline.IsZero() {
			t := time.NewTimer(time.Until(deadline))
			defer t.Stop()
			expired = t.C
		}
		select {
		case <-notify:
		case <-r.Context().Done():
			if cause := ctxCause(r); h.Cancel(cause) {
				return nil, nil, Result{Err: cause, Version: res.Version}, cause
			}
			<-notify // decided concurrently: the notification is on its way
		case <-expired:
			if h.Cancel(ErrVerifyTimeout) {
				// Answer with the fields the handler set, as any rejection.
				hr := h.req
				hr.resp.reset()
				hr.resp.addPreset(hr.preset)
				return u.httpReject(w, r, hr, Result{Status: ErrVerifyTimeout.Status, Err: ErrVerifyTimeout, Version: res.Version}, ErrVerifyTimeout.Reason)
			}
			<-notify
		}
		out, res = h.Finish(out[:0])
		active = h.req
	}
	if !res.Accepted() {
		return u.httpReject(w, r, active, res, active.rejReason)
	}
	c, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		const reason = "cannot take over the connection"
		http.Error(w, "websocket: "+reason, http.StatusInternalServerError)
		u.tell(r, &HandshakeError{Status: http.StatusInternalServerError, Reason: reason, Err: err})
		return nil, nil, Result{Status: http.StatusInternalServerError, Err: err}, err
	}
	// Clear what http.Server set (ReadTimeout, WriteTimeout): the connection
	// is a WebSocket's now. The 101 alone is bounded, by HandshakeTimeout.
	_ = c.SetDeadline(time.Time{})
	if !deadline.IsZero() {
		_ = c.SetWriteDeadline(deadline)
	}
	if _, err = brw.Write(out); err == nil {
		err = brw.Flush()
	}
	if err != nil {
		c.Close()
		return nil, nil, res, err
	}
	if !deadline.IsZero() {
		_ = c.SetWriteDeadline(time.Time{})
	}
	var head []byte
	if n := brw.Reader.Buffered(); n > 0 {
		p, _ := brw.Reader.Peek(n)
		head = bytes.Clone(p)
	}
	return c, head, res, nil
}

// httpPeer is the TCP peer of r (IPv4-mapped addresses unmapped, as the raw
// path has them), or the zero AddrPort when RemoteAddr is not ip:port.
func httpPeer(r *http.Request) netip.AddrPort {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// ctxCause is the cancel cause when the client leaves while a deferred
// decision is pending: ErrCanceled, wrapping why the context ended.
func ctxCause(r *http.Request) error {
	return fmt.Errorf("%w: %w", ErrCanceled, context.Cause(r.Context()))
}

// httpReject writes the rejection through w, so net/http frames it (and does
// not try to reuse the connection), with the fields in req's header list.
func (u *Upgrader) httpReject(w http.ResponseWriter, r *http.Request, req *Request, res Result, reason string) (net.Conn, []byte, Result, error) {
	return nil, nil, res, u.writeReject(w, r, res.Status, reason, res.Err, &req.resp)
}

// writeReject writes a rejection through w, tells OnHandshakeError and returns
// the *HandshakeError.
func (u *Upgrader) writeReject(w http.ResponseWriter, r *http.Request, status int, reason string, err error, extra *ResponseHeader) *HandshakeError {
	h := w.Header()
	he := rejection(h, status, reason, err, extra)
	w.WriteHeader(status)
	_, _ = w.Write(he.Body)
	he.Header = h.Clone()
	u.tell(r, he)
	return he
}

// tell passes a net/http rejection to OnHandshakeError.
func (u *Upgrader) tell(r *http.Request, he *HandshakeError) {
	if u != nil && u.OnHandshakeError != nil {
		u.OnHandshakeError(httpPeer(r), r, he)
	}
}

// appendHTTPRequest serialises what net/http parsed back into a header block,
// so the adapter runs the very same scanner and checks as the raw path.
func appendHTTPRequest(dst []byte, r *http.Request) []byte {
	dst = append(dst, r.Method...)
	dst = append(dst, ' ')
	dst = append(dst, r.URL.RequestURI()...)
	dst = append(dst, " HTTP/"...)
	dst = strconv.AppendInt(dst, int64(r.ProtoMajor), 10)
	dst = append(dst, '.')
	dst = strconv.AppendInt(dst, int64(r.ProtoMinor), 10)
	dst = append(dst, "\r\n"...)
	if r.Host != "" {
		dst = appendField(dst, "Host", r.Host)
	}
	for k, vs := range r.Header {
		if equalFold(k, "host") {
			continue
		}
		for _, v := range vs {
			dst = appendField(dst, k, v)
		}
	}
	return append(dst, "\r\n"...)
}

// chanNotifier wakes the adapter's goroutine when a deferred handshake is decided.
type chanNotifier chan struct{}

func (c chanNotifier) HandshakeDecided(*Handle) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// prefixConn returns head before reading from the connection.
type prefixConn struct {
	net.Conn
	head []byte
}

// NetConn returns the hijacked connection underneath.
func (c *prefixConn) NetConn() net.Conn { return c.Conn }

// CloseWrite half-closes like *net.TCPConn does, for relays that copy each way.
func (c *prefixConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.head) > 0 {
		n := copy(p, c.head)
		c.head = c.head[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
