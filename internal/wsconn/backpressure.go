package wsconn

// Backpressure, both ways, by default.
//
// Reading: while a connection's outbound bytes are above Config.WriteHighWater,
// the engine stops reading from it (readHeld, one call at the top of the read
// loop) and resumes once flushing brings them to half the mark or below. A peer
// that sends and never reads its answers then fills its own socket buffers and
// blocks, as with a blocking-write library (gorilla, coder), instead of making us
// queue answers without end. On the loops the poller is edge-triggered, so
// stopping costs no epoll_ctl: the read loop simply returns, and flush posts the
// connection an evRead when it resumes, for the bytes still in the kernel.
// Goroutine mode's reader waits for its wake channel instead (goroutine.go); its
// writer posts evWrite after every write.
//
// A stopped connection reads nothing, pongs included, so keepalive
// (PingInterval, PongTimeout) drops a peer that reads nothing for that long
// whatever it sends: keeping a connection alive with pongs does not save it from
// the policy.
//
// Writing: each connection's cap (MaxWriteBuffer) and the memory all
// connections' queues hold together (MaxTotalBuffered, reserved before a write
// commits, in pages outside the Go heap) are internal/wswrite's contract, under
// the WriteBufferPolicy. Inbound: the bytes held between reads (partial
// frames, messages being assembled, compressed frames being collected) are
// charged to MaxTotalInbound by internal/wsread and internal/assemble; a
// growth past it fails that connection with 1013 (ErrInboundBudget).

// readHeld reports whether reading must stop for now because the connection's
// output is above Config.WriteHighWater (worker context). Reading stays stopped
// until the output is down to half the mark (wswrite.Writer.HoldRead; flush
// reports when it may resume).
func (c *Conn) readHeld() bool {
	if !c.WriteSide.W.Queued() || c.Eng().Cfg.WriteHighWater < 0 {
		return false // nothing queued: the common case costs one atomic load
	}
	c.WriteSide.Mu.Lock()
	held := c.WriteSide.W.HoldRead(c.sink(), &c.Eng().Cfg.WriteLimits)
	c.WriteSide.Mu.Unlock()
	return held
}
