// Package tlshand runs crypto/tls's handshake, unmodified, and hands the
// connection over to the record layer of package internal/tlsrec, so that
// after the handshake a wss connection can live on the event loop.
//
// Contract:
//
//   - Prepare clones the user's tls.Config once (per server or client, not per
//     connection: the clone's automatically generated session ticket keys are
//     then shared by every connection, and resumption works) and installs a
//     KeyLogWriter that passes every line to the user's own KeyLogWriter and
//     hands CLIENT_TRAFFIC_SECRET_0 / SERVER_TRAFFIC_SECRET_0 to the
//     connection registered under the line's client random.
//   - The handshake runs over a wrapper net.Conn that hands crypto/tls one
//     record at a time, so crypto/tls consumes nothing past the last
//     handshake record; the bytes read ahead past it are Result.Leftover, the
//     Reader's first input. The wrapper keeps what it writes (bounded) and
//     the records crypto/tls already sealed under the application key (a
//     server's NewSessionTicket) are counted by trial decryption, which gives
//     the Writer its first sequence number; the Reader starts at 0.
//   - A client random is public: a duplicate registration, or a secret logged
//     twice for one random, yields no secrets, never another connection's.
//   - ErrGoroutineMode (wrapping the reason) means the handshake succeeded
//     but the record layer cannot take over: TLS 1.2, ChaCha20-Poly1305
//     (tlsrec.ErrUnsupportedSuite), no secrets logged (a GetConfigForClient
//     Config, a fragmented or duplicate ClientHello, ECH), a client Config
//     with a ClientSessionCache (crypto/tls cannot take tickets read by the
//     record layer). Result.Conn is then a working tls.Conn (the wrapper
//     turns into a pass-through) and the connection stays in goroutine mode.
//   - Clients (ClientConn, client.go) hand off later: after the WebSocket
//     opening handshake, which runs through the returned *tls.Conn, so
//     crypto/tls takes the server's early NewSessionTicket messages into
//     the ClientSessionCache. The wrapper keeps the records it hands
//     crypto/tls after the handshake (bounded) and a shadow Reader opens
//     them, ending in crypto/tls's receive state; HandOff first drains
//     crypto/tls's decrypted input (Result.Plain) by answering a temporary
//     net.Error at a record boundary, which crypto/tls does not keep. Until
//     HandOff succeeds crypto/tls's state is untouched: every fallback
//     (ErrGoroutineMode, Fallback) leaves a working tls.Conn.
//   - Servers behind net/http (ServerLate, late.go) hand off after the 101 a
//     handler wrote through the hijacked tls.Conn: the LateConn under it
//     follows crypto/tls in O(1) memory until then (a shadow Reader opens a
//     copy of each record it hands crypto/tls, one at a time; the send side
//     counts record headers), for at most FollowMax bytes received; HandOff
//     drains crypto/tls's plaintext as the client's does. HTTP/2, TLS 1.2,
//     ChaCha20 and a KeyUpdate the client asked for leave it crypto/tls's.
//   - In loop mode Result.Conn must not be used again (its keys and sequence
//     numbers are stale: closing it would send a bad close_notify): the
//     caller takes the socket, Result.Reader/Writer and Result.Leftover, and
//     keeps Result.State for Conn.TLSConnectionState.
//   - Slots (slots.go) bound the handshakes a server runs at once: Acquire
//     waits for a slot until the connection's deadline or Stop, which also
//     ends Context, the handshakes' context.
//   - An Acceptor (accept.go) serves a listener with them: one goroutine per
//     handshake, only while it holds a slot; a connection's slot wait and
//     handshake together are bounded by Timeout from its accept; every
//     connection either reaches Done or is closed here after Busy or Failed.
package tlshand
