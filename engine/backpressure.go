package engine

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
// Writing: besides each connection's cap (MaxWriteBuffer), the memory all
// connections' queues hold together is bounded by Config.MaxTotalBuffered,
// exactly: a write reserves what queuing it would add before anything moves
// (compare-and-swap on the total, internal/wswrite), so writers on many
// connections at once cannot pass it. A write that would pass either bound is
// handled by the WriteBufferPolicy (refused, dropped, or the connection closed
// with 1008). A write that finds its connection's queue empty is tried on the
// socket first, which usually takes it all and costs the budget nothing, so
// healthy connections are served while slow ones hold the budget; if the
// budget cannot take what the socket left, that connection is cut
// (ErrBudgetCut): the write can no longer be refused. The queues' buffers live outside the Go heap
// (internal/pagepool), so the budget bounds resident memory, not only the live
// heap: nothing on top of it waits for the collector.

// Inbound: the bytes held for connections between reads (a partial frame's
// buffer in the reader, a message being assembled, compressed frames being
// collected) are counted in the engine's inbound total (a wsread.Total) by the capacity of their pooled
// buffers, charged when a buffer is taken or grows and refunded when it goes back
// (delivered, failed, finished). The common case, a frame that arrives whole in
// one read and is delivered as a slice of the read buffer, takes no buffer and
// touches no counter. A growth that would pass Config.MaxTotalInbound is refused
// and that connection failed with 1013 (ErrInboundBudget): memory a crowd of
// peers can pin by sending the first part of large messages and never the rest
// is bounded by the budget, not by connections × MaxMessageSize. 1013 (Try Again
// Later) rather than 1009: the message was within the limits; the server is
// what is short.

// readHeld reports whether reading must stop for now because the connection's
// output is above Config.WriteHighWater (worker context). Reading stays stopped
// until the output is down to half the mark (wswrite.Writer.HoldRead; flush
// reports when it may resume).
func (c *Conn) readHeld() bool {
	if !c.write.w.Queued() || c.eng.cfg.WriteHighWater < 0 {
		return false // nothing queued: the common case costs one atomic load
	}
	c.write.mu.Lock()
	held := c.write.w.HoldRead(c.sink(), &c.eng.cfg.writeLimits)
	c.write.mu.Unlock()
	return held
}

// BufferedAmount is the memory the server's connections hold for queued
// outbound bytes now, all together: the pooled buffers' size in whole pages
// (what they keep resident), which Config.MaxTotalBuffered bounds.
func (s *Server) BufferedAmount() int64 { return s.e.buffered.Load() }

// BufferedAmount is the memory the client's connections hold for queued
// outbound bytes now, all together (as Server.BufferedAmount).
func (cl *Client) BufferedAmount() int64 { return cl.e.buffered.Load() }

// BufferedInbound is the number of inbound bytes the server's connections hold
// between reads now, all together (what Config.MaxTotalInbound bounds).
func (s *Server) BufferedInbound() int64 { return s.e.inbound.Load() }

// BufferedInbound is the number of inbound bytes the client's connections hold
// between reads now, all together.
func (cl *Client) BufferedInbound() int64 { return cl.e.inbound.Load() }
