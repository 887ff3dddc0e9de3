// Package upgrade implements the WebSocket opening handshake, server and client
// (RFC 6455 §4, extension negotiation hooks for RFC 7692), over bytes: no
// goroutines, no framing, no I/O except in the net/http adapter.
//
// # Server, raw path (the engine)
//
// The engine keeps one *Request per worker ([NewRequest]) and one shared
// [*Upgrader] (the policy; nil or zero value means defaults). For each read of a
// connection still in its handshake:
//
//	n, err := u.Parse(buf, req)          // buf: every byte received so far
//	switch {
//	case err == upgrade.ErrNeedMore:     // header block not complete: keep buf
//	                                     // (copy it to a per-connection buffer)
//	                                     // and call again with more bytes
//	case err != nil:                     // malformed or over a cap (400/414/431)
//	        out = u.Refuse(out, peer, err)  // write, then close
//	default:
//	        out, res := u.Handshake(req, peer, out, conn)
//	        // res.Accepted(): write out (the 101); buf[n:] are already frame
//	        //   bytes (ws's head); keep res.Subprotocol, res.Extensions,
//	        //   res.UserValue, res.Version.
//	        // res.Pending != nil: nothing was written; wait for the Notifier.
//	        // otherwise: write out (the rejection, Connection: close), close.
//	}
//
// Parse rescans from the start of buf on each call, but cheaply: one IndexByte
// per line until the block ends, with CRLF, line length, field count and block
// size enforced before the block is complete, so a client dripping garbage is
// refused early and a slow one costs at most MaxHeaderBytes of scanning per read.
//
// Handshake runs, in order: the RFC 6455 §4.2.1 checks (method 405 with
// Allow: GET; HTTP/1.1 400; Host 400; a body 400; no Upgrade field at all, a
// plain GET, 426 (RFC 7231 §6.5.15); Upgrade without websocket and Connection
// without upgrade 400; key 400; version 426; a 426 carries Upgrade: websocket,
// Connection: Upgrade, close and Sec-WebSocket-Version: 13, 8; malformed
// Sec-WebSocket-Protocol or -Extensions 400), the path filter (404), the origin
// policy (403, same host by default), the verify hook, subprotocol selection,
// extension negotiation ([ExtensionNegotiator]) and the response hook; then it
// appends the 101 or the rejection to the caller's buffer. The accepting path
// allocates nothing; Sec-WebSocket-Accept is computed in fixed arrays.
//
// Every rejection, on either path, is also told to [Upgrader.OnHandshakeError]
// (peer, the *http.Request or nil, and the answer as a *HandshakeError) for logs
// and per-reason counters; refusals made around Handshake go through
// [Upgrader.Refuse] and [Upgrader.RefuseHTTP] so that the hook sees them too.
//
// # Lifetimes
//
// A Request scans the buffer given to Parse in place, and the engine reuses that
// buffer for the next connection at once. Go strings never change, so no string
// a Request hands out views it: the first string accessor a hook calls (Query,
// Header, Path, Cookie, Subprotocols, Extensions, ...) gives the Request a
// private copy of the header block (one allocation per handshake, however many
// accessors follow), and every string it returns is a view of that copy, safe
// to keep for ever. A handshake whose hooks call none copies nothing. The
// zero-copy views are []byte accessors (Raw, HeaderBytes, QueryBytes), valid
// only during the hook that got the Request. [Request.Clone] makes an owned
// copy. Result never aliases the buffer: strings in it are the server's own
// (from Subprotocols) or copies.
//
// # Deferred decisions
//
// The verify hook runs on the engine worker and must not block. For an auth
// lookup it calls [Decision.Defer], which returns a [*Handle] owning a copy of
// the request (so the engine may reuse req and its buffer at once), and
// Handshake returns with Result.Pending set and nothing appended. Later, any
// goroutine calls Handle.Accept or Handle.Reject; that goroutine then calls the
// engine's [Notifier] (the value passed to Handshake, typically the engine's
// *conn, so passing it allocates nothing); the engine schedules the connection
// and, on its worker, calls Handle.Finish(out) to append the answer and get the
// Result. The notification may arrive before Handshake returns. When the peer
// disconnects or the handshake times out, the engine calls Handle.Cancel: a
// later Accept returns ErrCanceled and the Handle's Context ends. The deferred
// path allocates (a clone, a context); the synchronous paths do not.
//
// # net/http
//
// [Upgrader.Upgrade] runs the same checks and hooks for a handler under
// http.Server (the Request is rebuilt from the *http.Request, which
// Request.HTTPRequest returns), hijacks, writes the 101 and returns the
// connection plus the bytes net/http had buffered past the request. Rejections
// go through the ResponseWriter. [Upgrader.HandshakeTimeout] bounds a deferred
// decision (then 503) and the writing of the 101. [Upgrader.UpgradeRaw] is the
// WebSocket-to-WebSocket proxy form: the connection alone, buffered bytes
// folded into its reads.
//
// # Client
//
// [NewClientRequest] (or a [ClientRequest] literal and [GenerateKey]) describes
// the request; AppendTo writes it. [ParseResponse] scans the answer with the
// same incremental contract and caps; [ValidateResponse] checks it and returns
// the subprotocol and accepted extensions, or a *HandshakeError for a non-101
// answer whose body [HandshakeError.ReadBody] reads up to a bound.
//
// # Errors
//
// Every check has a *CheckError sentinel (compare with errors.Is); its Status is
// the HTTP answer, also given by [StatusOf]. Non-101 answers and rejections in
// the adapter are *HandshakeError, which unwraps to the sentinel.
package upgrade
