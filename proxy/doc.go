// Package proxy opens a byte stream to a target through a proxy: an HTTP
// CONNECT tunnel (RFC 9110 §9.3.6) over TCP (scheme http) or TLS (https), or a
// SOCKS5 CONNECT (RFC 1928, user name and password per RFC 1929; schemes
// socks5 and socks5h). The result is a net.Conn to the target on which the
// caller runs what it would have run on a direct connection (TLS for wss, the
// WebSocket handshake). It works with any dialer (ContextDialer) and with a
// connection the caller opened itself (Tunnel).
//
// # Contract
//
//   - Nothing past the proxy's answer is consumed: the first bytes of the
//     tunnel are the caller's. The HTTP answer is read one byte at a time up
//     to its blank line; SOCKS5 reads are exact.
//   - The proxy is not trusted: its HTTP answer is bounded by MaxReplyBytes
//     (ErrBadReply past it) and every SOCKS5 length is one byte, so a hostile
//     or broken proxy costs at most a few KiB and the caller's deadline.
//   - ctx bounds the whole exchange: when it ends, the socket gets a past
//     deadline and the error wraps ctx.Err(). On any error the connection is
//     closed.
//   - Errors: ErrRefused (the proxy answered, and said no: a non-2xx status, a
//     SOCKS5 reply other than success, failed authentication), ErrBadReply (an
//     answer that breaks the protocol), ErrScheme (a proxy URL this package
//     does not speak); I/O errors as they come.
//
// Lookup picks the proxy for a target as net/http does (HTTP_PROXY,
// HTTPS_PROXY, NO_PROXY by default); Addr is the address to dial for a proxy
// URL, with the scheme's default port.
package proxy
