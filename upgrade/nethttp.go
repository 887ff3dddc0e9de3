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
// A rejection is written through w (Connection: close) and returned as a
// *HandshakeError wrapping the reason's sentinel. On success the connection is
// hijacked, its deadlines cleared, the 101 written, and the connection returned
// with head: the bytes the client sent after the request that net/http had
// already buffered (ws's `head`), which belong to the WebSocket stream. A
// deferred verify hook blocks this goroutine until the Handle is decided, or
// cancels the Handle when r's context ends.
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

func (u *Upgrader) serveHTTP(w http.ResponseWriter, r *http.Request) (net.Conn, []byte, Result, error) {
	req := requestPool.Get().(*Request)
	defer func() {
		req.reset()
		requestPool.Put(req)
	}()
	if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
		return u.httpReject(w, req, Result{Status: ErrRequestBody.Status, Err: ErrRequestBody}, ErrRequestBody.Reason)
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
		return u.httpReject(w, req, Result{Status: StatusOf(err), Err: err}, reason)
	}
	req.httpReq = r
	// Fields the handler set on w move into the handshake's header list, so
	// the hooks see them and they are written once.
	if len(w.Header()) > 0 {
		req.preset = w.Header().Clone()
		clear(w.Header())
	}
	peer, _ := netip.ParseAddrPort(r.RemoteAddr)
	notify := make(chanNotifier, 1)
	out, res := u.handshake(req, peer, nil, notify)
	active := req
	if h := res.Pending; h != nil {
		select {
		case <-notify:
		case <-r.Context().Done():
			if cause := ctxCause(r); h.Cancel(cause) {
				return nil, nil, Result{Err: cause, Version: res.Version}, cause
			}
			<-notify // decided concurrently: the notification is on its way
		}
		out, res = h.Finish(out[:0])
		active = h.req
	}
	if !res.Accepted() {
		return u.httpReject(w, active, res, active.rejReason)
	}
	c, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "websocket: cannot take over the connection", http.StatusInternalServerError)
		return nil, nil, Result{Status: http.StatusInternalServerError, Err: err}, err
	}
	_ = c.SetDeadline(time.Time{})
	if _, err = brw.Write(out); err == nil {
		err = brw.Flush()
	}
	if err != nil {
		c.Close()
		return nil, nil, res, err
	}
	var head []byte
	if n := brw.Reader.Buffered(); n > 0 {
		p, _ := brw.Reader.Peek(n)
		head = bytes.Clone(p)
	}
	return c, head, res, nil
}

// ctxCause is the cancel cause when the client leaves while a deferred
// decision is pending: ErrCanceled, wrapping why the context ended.
func ctxCause(r *http.Request) error {
	return fmt.Errorf("%w: %w", ErrCanceled, context.Cause(r.Context()))
}

// httpReject writes the rejection through w, so net/http frames it (and does
// not try to reuse the connection).
func (u *Upgrader) httpReject(w http.ResponseWriter, req *Request, res Result, reason string) (net.Conn, []byte, Result, error) {
	reason = clipReason(reason)
	h := w.Header()
	for _, f := range req.resp.kv {
		h.Add(f.name, f.value)
	}
	for _, f := range rejectFields(res.Err) {
		h.Add(f.name, f.value)
	}
	if reason != "" {
		h.Set("X-WebSocket-Reject-Reason", string(appendSanitized(nil, reason)))
	}
	body := reason
	if body == "" {
		body = http.StatusText(res.Status)
	}
	h.Set("Connection", "close")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(res.Status)
	_, _ = w.Write([]byte(body + "\n"))
	hdr := h.Clone()
	return nil, nil, res, &HandshakeError{Status: res.Status, Reason: reason, Header: hdr, Body: []byte(body + "\n"), Err: res.Err}
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
