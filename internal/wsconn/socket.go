package wsconn

// The engine's side of its sockets: internal/sock makes the syscalls; here
// they meet the engine's policy (admission, TCP options from Config, logging)
// and goroutine mode, where a connection's socket is a net.Conn (identity.goMode set).

// What differs between a connection on the loops (its fd, with the TLS record
// layer for wss) and one in goroutine mode (identity.goMode: a net.Conn with
// its reader and writer goroutines, goroutine.go): the socket's close,
// half-close and local address, what the kernel still holds (timer.go), the
// Writer's Sink (writeside.go) and how events reach the connection (sched.go).
// The loops' read path (read.go) never runs in goroutine mode.

func (c *Conn) sysRead(b []byte) (int, error) { return c.FD.Read(b) }

// closeSocket gives the write side's buffers back and closes the socket (under
// WriteSide.Mu, with the Writer marked closed, so that no other goroutine can touch
// a reused fd number afterwards). Goroutine mode's writer may first send what
// is queued (closeNet).
func (c *Conn) closeSocket() {
	if c.goMode() {
		c.closeNet()
		return
	}
	c.releaseWrite()
	if c.TLS != nil {
		c.tlsSayBye() // close_notify, or the alert a bad record calls for
		c.tlsDropBacklog()
	}
	c.FD.Close() // once; afterwards c.fd.Int() is -1
}

// shutLocked half-closes the socket (under WriteSide.Mu).
func (c *Conn) shutLocked() {
	if c.goMode() {
		c.Goroutine().CloseWrite()
		return
	}
	if c.TLS != nil {
		c.tlsSayBye() // RFC 8446 §6.1: close_notify before the half-close
	}
	c.FD.Shutdown()
}
