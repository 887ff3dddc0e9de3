package tlsrec

import "time"

// Idle connections keep no AEAD. An AES-GCM AEAD (both AES key schedules and
// the GHASH table) is about 0.9 KB per direction, more than half of what an
// idle wss connection held; the secret and sequence number its key and IV
// are derived from are 44 bytes (keys.go). So each direction derives key and
// IV and builds its AEAD at the first record that needs it and lets them go
// when the direction turns out idle; rebuilding (two HMACs and AES-GCM)
// costs about as much as sealing a dozen small records (BenchmarkRebuild),
// so a busy direction must keep it.
//
// The rule, applied by Relax, which the owner calls after each burst of I/O
// (the read side after each read, the write side after each socket write):
// when the previous burst ended at least IdleAfter before this one (or this is
// the first), the AEAD is dropped. A direction with records closer together
// than IdleAfter never rebuilds; a sparse one rebuilds once per burst, at most
// once per IdleAfter. A direction that was busy and then stops keeps its AEAD
// until its next burst: with keepalive (PingInterval) that is the next ping or
// pong, after which both directions drop.
//
// Dropping is safe at any point between records: the sequence number and the
// secret stay, so the rebuilt AEAD has the same key and IV and continues the
// nonce sequence (RFC 8446 §5.3), and a KeyUpdate (§4.6.3) replaces the
// secret and drops the old key's AEAD, whether or not one was built.

// IdleAfter is the gap between bursts after which a direction drops its AEAD.
const IdleAfter = time.Second

// epoch makes the monotonic clock a number (time.Since reads the monotonic
// clock, so wall-clock steps do not matter).
var epoch = time.Now()

// relax records the end of a burst in t.last: milliseconds since epoch,
// odd (0 means none yet), in 32 bits to fit the key's padding. They wrap
// every 49.7 days; the subtraction below is modular, so a gap is measured
// right unless it is itself over 49.7 days, when a gap of a multiple of that
// plus under a second would keep the AEAD one burst longer: memory, never
// keys or nonces, which a drop does not touch.
func (t *trafficKey) relax() { t.relaxAt(uint32(time.Since(epoch)/time.Millisecond) | 1) }

func (t *trafficKey) relaxAt(now uint32) {
	if t.last == 0 || now-t.last >= uint32(IdleAfter/time.Millisecond) {
		t.drop()
	}
	t.last = now
}

// Relax marks the end of a burst of reads (see IdleAfter); it drops the
// receive AEAD when the previous burst was at least IdleAfter ago. Read side
// only, like Open.
func (r *Reader) Relax() { r.k.relax() }

// Relax marks the end of a burst of writes (see IdleAfter); it drops the send
// AEAD when the previous burst was at least IdleAfter ago. Write side only,
// like AppendSeal.
func (w *Writer) Relax() { w.k.relax() }

// Drop lets the receive AEAD go now; the next record builds it again.
func (r *Reader) Drop() { r.k.drop() }

// Drop lets the send AEAD go now; the next record builds it again.
func (w *Writer) Drop() { w.k.drop() }

// Holding reports whether the Reader holds an AEAD (tests, metrics).
func (r *Reader) Holding() bool { return r.k.holding() }

// Holding reports whether the Writer holds an AEAD (tests, metrics).
func (w *Writer) Holding() bool { return w.k.holding() }

func (t *trafficKey) holding() bool { return t.x != nil && t.x.aead != nil }
