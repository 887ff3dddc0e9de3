package tlsloop

import (
	"testing"
)

// TestIdleDropsBoxes: the partial record's box and the backlog's are made on
// need, kept while their direction is busy (its AEAD held, no allocation per
// read or write), and let go with the AEAD once the direction is idle and
// they carry nothing, so an idle Conn is its one allocation.
func TestIdleDropsBoxes(t *testing.T) {
	t.Parallel()
	c, peer, _ := conn(t, nil)
	stream, err := peer.AppendSeal(nil, []byte("hello, idle"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, ReadRoom)
	feed := func(b []byte) string {
		k := c.Kept(buf)
		plain, _, err := c.Input(buf[:k+copy(buf[k:], b)])
		if err != nil {
			t.Fatal(err)
		}
		return string(plain)
	}
	feed(stream[:7])
	c.RelaxRead() // the first burst: the AEAD goes, the bytes kept stay
	if c.partial == nil || len(c.kept()) != 7 {
		t.Fatalf("partial record lost: %v", c.kept())
	}
	if got := feed(stream[7:]); got != "hello, idle" {
		t.Fatalf("got %q", got)
	}
	c.RelaxRead() // a burst right after the last: busy, both kept
	if c.partial == nil || !c.r.Holding() {
		t.Fatalf("busy read side: box %v, AEAD %v", c.partial != nil, c.r.Holding())
	}
	c.r.Drop() // as Relax does after a pause
	c.RelaxRead()
	if c.partial != nil {
		t.Fatal("an idle read side keeps the partial record's box")
	}

	s := &socket{take: 10}
	if n, err := c.Write2(s, make([]byte, 100), nil); n != 0 || err != nil || c.bl == nil {
		t.Fatalf("Write2 = %d, %v; backlog %v", n, err, c.bl != nil)
	}
	s.take = 1 << 30
	// The 100 bytes the backlog carried, handed back, and 50 more sealed now.
	if n, err := c.Write2(s, make([]byte, 150), nil); n != 150 || err != nil {
		t.Fatalf("Write2 = %d, %v", n, err)
	}
	if c.bl == nil || c.backlogged() || !c.w.Holding() {
		t.Fatalf("busy write side: box %v, backlog %v, AEAD %v", c.bl != nil, c.backlogged(), c.w.Holding())
	}
	c.w.Drop()
	if n, err := c.Write2(s, nil, nil); n != 0 || err != nil {
		t.Fatalf("Write2 = %d, %v", n, err)
	}
	if c.bl != nil {
		t.Fatal("an idle write side keeps the backlog's box")
	}
}

// BenchmarkIdleRound is one keepalive round of an idle connection's record
// layer, as after IdleAfter without I/O: the ping sealed and written (the
// send AEAD rebuilt, then dropped), the pong read and opened (the receive
// AEAD rebuilt, then dropped). Its B/op is the garbage a round makes per
// connection: the two AEADs (crypto/aes's block, crypto/cipher's GCM, the
// liveKey: 1,328 B in 3 allocations each with AES-128-GCM); nothing else.
func BenchmarkIdleRound(b *testing.B) {
	c, peer, _ := conn(b, nil)
	ping := []byte{0x89, 0}
	pong := make([]byte, 0, 64)
	buf := make([]byte, ReadRoom)
	s := &socket{take: 1 << 30}
	b.ReportAllocs()
	for b.Loop() {
		s.out = s.out[:0]
		if n, err := c.Write2(s, ping, nil); n != len(ping) || err != nil {
			b.Fatal(n, err)
		}
		pong, _ = peer.AppendSeal(pong[:0], []byte{0x8a, 0x80, 1, 2, 3, 4})
		if _, _, err := c.Input(buf[:copy(buf, pong)]); err != nil {
			b.Fatal(err)
		}
		c.RelaxRead()
		c.w.Drop() // as Relax does at the next round, after the pause
		c.r.Drop()
		if c.partial != nil || c.bl != nil {
			b.Fatal("an idle round kept a box")
		}
	}
}
