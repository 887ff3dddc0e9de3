package closing

// Read is the machine's state in a connection's read side (one byte, kept
// there and reached only by the context that holds it: Conn.Read): whether
// the peer's close frame came, and before ours; whether input is dropped; and
// whether the connection is finished.
type Read struct{ flags uint8 }

const (
	received  uint8 = 1 << iota // the peer's close frame arrived (§7.1.5)
	peerFirst                   // it came before ours went out: the peer began
	discard                     // failed (§7.1.7), or refused: input is dropped
	finished                    // closed for good
)

// Received reports whether the peer's close frame arrived; PeerFirst,
// whether it came before ours went out.
func (r *Read) Received() bool  { return r.flags&received != 0 }
func (r *Read) PeerFirst() bool { return r.flags&peerFirst != 0 }

// Discarding reports whether input is dropped; Finished, whether the
// connection is closed for good; Over, either: no frame is read any more.
func (r *Read) Discarding() bool { return r.flags&discard != 0 }
func (r *Read) Finished() bool   { return r.flags&finished != 0 }
func (r *Read) Over() bool       { return r.flags&(discard|finished) != 0 }

// Discard starts dropping input; false when no frame was read any more
// already (Over).
func (r *Read) Discard() bool {
	if r.Over() {
		return false
	}
	r.flags |= discard
	return true
}

// Finish marks the connection finished; false when it was already.
func (r *Read) Finish() bool {
	if r.Finished() {
		return false
	}
	r.flags |= finished
	return true
}

func (r *Read) receive(first bool) {
	r.flags |= received
	if first {
		r.flags |= peerFirst
	}
}
