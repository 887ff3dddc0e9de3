// Package admit keeps a Server's connection caps (Config.MaxConns,
// Config.MaxConnsPerIP) at every way in, each answering the way it can:
//
//   - a socket the Server accepts (on a loop, or in an accept goroutine) is
//     closed at once, before a byte of it is read: no handshake has begun, so
//     nothing is owed (Gate.Accept);
//   - net/http's requests are answered 503 with Retry-After before upgrading
//     (Gate.HTTP, TooMany);
//   - an upgraded connection handed to Adopt gets close 1013 (try again
//     later) and is closed (Gate.Adopt says whether it has room).
//
// A connection counts from then until it ends, under its TCP peer's address
// (an IPv6 one under its prefix, Config.IPv6PrefixLen: internal/iplimit),
// except when the Upgrader trusts that peer as a proxy (TrustedProxies): such
// a peer carries many clients, so it is not counted at accept (no header has
// arrived then), and the connection counts under the client IP its handshake
// resolves (upgrade.Upgrader.ClientIP), judged as soon as the request is
// parsed, before the hooks run (Gate.ClientIP): over the cap it is answered
// 503 with Retry-After, on the engine's own listener as through ServeHTTP
// (which resolves it from the *http.Request). A connection Adopt gets
// directly from a trusted proxy has no resolved address and is not counted.
//
// Contract:
//
//   - MaxConns is judged against the engine's count as each connection
//     arrives, so connections arriving on several loops or handlers at the
//     same instant may overshoot it by a few. The per-IP count is exact:
//     judged and counted under one lock (internal/iplimit).
//   - Whatever a method counted, the caller gives back once: with Leave for
//     the TCP peer, with Release for a connection whose Seat (ClientIP,
//     Adopt) a handshake resolved.
//   - Safe for concurrent use; a nil *Gate (a client's engine) counts nothing
//     and trusts no proxy.
package admit
