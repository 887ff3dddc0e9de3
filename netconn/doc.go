// Package netconn gives a net.Conn view of a WebSocket connection that is read
// with blocking calls (ws createWebSocketStream, coder/websocket NetConn): Read
// returns the payloads of successive messages as one byte stream; each Write
// sends one message with the opcode given to New. It stands on the exported
// API of *engine.Conn (the Conn interface), so it works for any connection
// that ReadMessage can read: one dialled without a Handler, or served by a
// Server made without one.
//
// # Contract
//
//   - A normal close (1000, 1001, or a close frame with no status) reads as
//     io.EOF; any other end is the connection's error (a *engine.CloseError,
//     or the I/O error that ended it).
//   - Deadlines follow net.Conn: past one, Read and Write fail with an error
//     that is os.ErrDeadlineExceeded and a net.Error whose Timeout is true.
//     SetReadDeadline applies to a Read in progress. A Write never blocks
//     (the engine queues the message under Config.MaxWriteBuffer), so its
//     deadline only makes later Writes fail.
//   - One Read at a time; the bytes of a message are held until read, so a
//     reader with a small buffer sees a message across several Reads.
//   - Close starts the closing handshake with 1000 and, as net.Conn's Close,
//     unblocks a Read in progress at once: it and every later Read or Write
//     fail with net.ErrClosed (the peer's close frame is not waited for).
package netconn
