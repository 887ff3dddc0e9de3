// Package dial opens client WebSocket connections up to the end of the opening
// handshake, blocking on the caller's goroutine: the transport (TCP or a Unix
// socket, through a proxy when one applies, TLS for wss), the request built
// from the URL and Options (RFC 6455 §4.1), the response read and checked
// against it, and redirects followed when asked. What comes after — frames —
// belongs to whoever takes the Result: engine.Client runs it on its loops
// (engine.Client.Dial uses this package; engine.Client.Adopt takes a
// connection opened with it or by hand).
//
// # Contract
//
//   - Dial returns the connection with the bytes already read past the 101
//     (Result.Head: the first frame bytes, if the server sent any at once);
//     nothing else has been consumed. On error the connection is closed.
//   - ctx bounds everything: TCP, proxy, TLS and the handshake. When it ends
//     the socket gets a past deadline (no deadline is set from ctx's own: it
//     could fire before ctx reports done), and the error wraps ctx.Err().
//     Options.HandshakeTimeout adds a bound of its own (default 10 s).
//   - The server is not trusted: the response head is bounded by upgrade's
//     response limits (upgrade.ParseResponse), a refusal's body by
//     upgrade.DefaultErrorBodyLimit, and a response that does not answer the
//     request (key, subprotocol, extensions, permessage-deflate parameters
//     not offered) fails the dial.
//   - A non-101 answer is a *upgrade.HandshakeError with its status, headers
//     and body. Redirects (301, 302, 303, 307, 308) are followed up to
//     Options.MaxRedirects; Authorization, Cookie and URL credentials are
//     dropped when a redirect changes host. A redirect that leaves TLS (wss
//     to ws) or goes from the network to ws+unix is not followed.
//   - Proxies come from Options.Proxy (default: the environment, as net/http)
//     and package proxy speaks to them.
package dial
