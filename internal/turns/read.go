package turns

// A read turn's budget. A connection's turn reads until the socket is dry,
// but not forever: a flooding peer must not hold a worker, or an inline loop,
// while other connections wait.
//
// MaxReads bounds the reads one turn makes, and MaxBytes the bytes: a read of
// a large frame's payload goes straight into its buffer and may take more
// than a read buffer's worth. A flooder then holds a worker for 128 KiB of
// input and its echoes, not for 32 full reads (2 MiB with the default
// buffer): with hundreds of flooders queued, that is what a fresh connection
// waits for (issue 12).
//
// Under DispatchPool a turn taken from the fresh lane (the connection is not
// heavy) reads at most LightBytes: a message of up to 16 KiB and its header
// still come in one read, and so do the echo benchmarks'. A turn that ends on
// its budget makes the connection heavy: its later turns, whatever wakes
// them, wait in the back lane with the full budget, until one reads the
// socket dry with little read (Read.Light). So the fresh lane only ever holds
// light work: when 200 connections start flooding at once, a fresh client's
// handshake and first message wait behind at most 32 KiB of each (issue 12:
// measured, that surge is what the first probe of TestAttackNeverReads
// waited for), not behind 128 KiB and the echoes of every flooder's every
// edge.
const (
	MaxReads   = 32
	MaxBytes   = 128 << 10
	LightBytes = 32 << 10
)

// Read is one read turn's budget: the reads made and the bytes taken so far.
// A value, kept on the stack of the turn's owner.
type Read struct {
	reads, got, limit int
	heavy, light      bool
}

// StartRead begins a read turn of a connection that is heavy (its last turn
// ended on its budget), on a runner with lanes (the worker pool; an inline
// loop or goroutine mode has one lane, and its turns are never light).
func StartRead(heavy, lanes bool) Read {
	switch {
	case heavy:
		return Read{limit: MaxBytes, heavy: true}
	case !lanes:
		return Read{limit: MaxBytes}
	}
	return Read{limit: LightBytes, light: true}
}

// Spent reports, before a read, whether the turn has used its budget; then
// the connection's turn ends with input left, and it becomes heavy when the
// turn was light (heavy).
func (t *Read) Spent() (spent, heavy bool) {
	spent = t.reads == MaxReads || t.got >= t.limit
	return spent, spent && t.light
}

// Room cuts buf to what a light turn may still read.
func (t *Read) Room(buf []byte) []byte {
	if t.light && len(buf) > t.limit-t.got {
		return buf[:t.limit-t.got]
	}
	return buf
}

// Took counts a read that returned n bytes (n may be 0).
func (t *Read) Took(n int) {
	t.reads++
	t.got += n
}

// Light reports, once a turn read the socket dry, whether a heavy
// connection is light again: it read less than a light turn may. A flooder
// whose heavy turn happens to catch up with its input stays heavy (its next
// edge would bring another full read into the fresh lane), while a
// connection that sent one burst is light again from its next small read.
func (t *Read) Light() bool { return t.heavy && t.got < LightBytes }
