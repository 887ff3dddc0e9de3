package tlsloop

import (
	"bytes"
	"crypto/tls"
	"io"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/weir-ws/weir/internal/tlsrec"
)

func keys() tlsrec.Keys {
	s := make([]byte, 32)
	for i := range s {
		s[i] = byte(i * 7)
	}
	return tlsrec.Keys{Suite: tls.TLS_AES_128_GCM_SHA256, Secret: s}
}

// pair returns a Writer and a Reader of the same direction.
func pair(t testing.TB) (*tlsrec.Writer, *tlsrec.Reader) {
	t.Helper()
	w, err := tlsrec.NewWriter(keys())
	if err != nil {
		t.Fatal(err)
	}
	r, err := tlsrec.NewReader(keys(), tlsrec.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return w, r
}

// conn returns a Conn that reads what peer seals and writes what peerIn opens.
func conn(t testing.TB, leftover []byte) (c *Conn, peer *tlsrec.Writer, peerIn *tlsrec.Reader) {
	peer, r := pair(t)
	w, peerIn := pair(t)
	return New(tls.ConnectionState{Version: tls.VersionTLS13}, r, w, leftover), peer, peerIn
}

// read feeds stream to c as a read turn would, cut at random points: the
// kept partial record, then what was "read", into a ReadRoom buffer.
func read(t *testing.T, c *Conn, stream []byte, rng *rand.Rand) ([]byte, error) {
	t.Helper()
	buf := make([]byte, ReadRoom)
	var out []byte
	if c.Fresh() {
		plain, _, err := c.Input(buf[:c.Kept(buf)])
		out = append(out, plain...)
		if err != nil {
			return out, err
		}
	}
	for len(stream) > 0 {
		k := c.Kept(buf)
		n := copy(buf[k:], stream[:1+rng.IntN(len(stream))])
		stream = stream[n:]
		plain, _, err := c.Input(buf[:k+n])
		out = append(out, plain...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// TestInputSplits: whatever the split points, and whatever part of the
// stream came with the handshake (the leftover), the plaintext comes out
// whole and in order, and nothing is kept at the end.
func TestInputSplits(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 40 {
		c, peer, _ := conn(t, nil)
		var want, stream []byte
		for range 1 + rng.IntN(6) {
			p := make([]byte, rng.IntN(3*tlsrec.MaxPlaintext/2))
			for i := range p {
				p[i] = byte(rng.Uint32())
			}
			want = append(want, p...)
			var err error
			if stream, err = peer.AppendSeal(stream, p); err != nil {
				t.Fatal(err)
			}
		}
		cut := rng.IntN(min(len(stream), 4096) + 1) // tlshand's read-ahead bounds the leftover
		if cut > 0 {
			c = New(c.ConnectionState(), &c.r, &c.w, stream[:cut])
		}
		got, err := read(t, c, stream[cut:], rng)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("round %d: %d bytes (want %d), err %v", round, len(got), len(want), err)
		}
		if c.kept() != nil {
			t.Fatalf("round %d: %d bytes still kept", round, len(c.kept()))
		}
	}
}

// TestFail: what each error from Input means, and what Bye says after it.
func TestFail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		stream func(peer *tlsrec.Writer) []byte
		fault  Fault
		bye    bool // Bye writes a record
	}{
		{"close_notify", func(p *tlsrec.Writer) []byte { b, _ := p.AppendCloseNotify(nil); return b }, PeerClosed, true},
		{"remote alert", func(p *tlsrec.Writer) []byte { b, _ := p.AppendAlert(nil, tlsrec.AlertInternalError); return b }, PeerAlert, false},
		{"bad record", func(p *tlsrec.Writer) []byte {
			b, _ := p.AppendSeal(nil, []byte("hello"))
			b[len(b)-1] ^= 1
			return b
		}, BadRecord, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, peer, peerIn := conn(t, nil)
			_, err := read(t, c, tc.stream(peer), rand.New(rand.NewPCG(3, 4)))
			if err == nil {
				t.Fatal("no error")
			}
			if f := c.Fail(err); f != tc.fault {
				t.Fatalf("Fail = %d, want %d", f, tc.fault)
			}
			s := &socket{take: 1 << 20}
			c.Bye(s)
			if (len(s.out) > 0) != tc.bye {
				t.Fatalf("Bye wrote %d bytes, want a record: %v", len(s.out), tc.bye)
			}
			if !tc.bye {
				return
			}
			_, err = peerIn.Decrypt(s.out)
			ae, _ := err.(*tlsrec.AlertError)
			switch {
			case tc.fault == PeerClosed && err != io.EOF:
				t.Fatalf("peer read %v, want close_notify", err)
			case tc.fault == BadRecord && (ae == nil || ae.Code != tlsrec.AlertBadRecordMAC):
				t.Fatalf("peer read %v, want bad_record_mac", err)
			}
		})
	}
}

// socket takes at most take bytes per write, keeps them, and counts Held.
type socket struct {
	take int
	out  []byte
	held int
}

func (s *socket) Write2(a, b []byte) (int, error) {
	n := 0
	for _, p := range [][]byte{a, b} {
		k := min(len(p), s.take-n)
		s.out = append(s.out, p[:k]...)
		n += k
	}
	return n, nil
}

func (s *socket) Held(d int) { s.held += d }

// TestWrite2Backlog: a socket that takes a little at a time. The caller
// hands back everything Write2 did not report taken, as the Writer's queue
// does (the contract: at least the bytes the backlog carries);
// the peer opens exactly the plaintext, once, in order (the backlog's bytes
// are skipped, never sealed again), with a KeyUpdate in between, and the
// memory Held comes back to zero.
func TestWrite2Backlog(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 12 {
		c, _, peerIn := conn(t, nil)
		s := &socket{}
		var want, queue []byte
		for i := range 20 {
			p := make([]byte, rng.IntN(2*Batch))
			for j := range p {
				p[j] = byte(rng.Uint32())
			}
			want = append(want, p...)
			if i == 10 {
				c.OweUpdate()
			}
			s.take = rng.IntN(3 * tlsrec.MaxCiphertext)
			// The whole queue, in two slices cut anywhere (the Writer hands
			// its queue whole, with a new frame behind it when it was empty).
			queue = append(queue, p...)
			split := rng.IntN(len(queue) + 1)
			n, err := c.Write2(s, queue[:split], queue[split:])
			if err != nil {
				t.Fatal(err)
			}
			queue = queue[n:]
		}
		for s.take = 1 << 30; len(queue) > 0 || c.backlogged(); {
			n, err := c.Write2(s, queue, nil)
			if err != nil {
				t.Fatal(err)
			}
			queue = queue[n:]
		}
		r, err := peerIn.Decrypt(s.out)
		if err != nil || r.Rest != 0 || !bytes.Equal(s.out[:r.Plain], want) {
			t.Fatalf("round %d: peer opened %d of %d bytes (rest %d), err %v", round, r.Plain, len(want), r.Rest, err)
		}
		if s.held != 0 {
			t.Fatalf("round %d: %d bytes still held", round, s.held)
		}
	}
}

// TestDropBacklog: a connection that closes with a backlog gives its memory back.
func TestDropBacklog(t *testing.T) {
	t.Parallel()
	c, _, _ := conn(t, nil)
	s := &socket{take: 10}
	if n, err := c.Write2(s, make([]byte, 1000), nil); n != 0 || err != nil {
		t.Fatalf("Write2 = %d, %v; want 0 taken whole", n, err)
	}
	if s.held <= 0 {
		t.Fatalf("held %d after a short write", s.held)
	}
	c.DropBacklog(s)
	if s.held != 0 || c.backlogged() {
		t.Fatalf("held %d after DropBacklog", s.held)
	}
}

// TestConnSize: an idle loop-mode connection's record layer is this one
// allocation (Reader and Writer inline, docs/tls-design.md "Memory"), in the
// runtime's 192-byte size class (256 before: the partial record's slice
// inline, 48-byte secrets, the Writer's own record count). Of it, the
// compacted tls.ConnectionState is 56 bytes (state.go; 192 whole, and
// crypto/tls's exporter 120 more), its exporter secret included, each
// direction's Reader or Writer 56 (a SHA-256 secret, sequence number, idle
// clock, flags, the pointer to the AEAD and the rare part), the partial
// record's and the backlog's pointers 16, the small fields 4.
func TestConnSize(t *testing.T) {
	t.Parallel()
	if s := unsafe.Sizeof(Conn{}); s > 192 {
		t.Errorf("tlsloop.Conn is %d bytes, over the 192-byte size class", s)
	}
}

// TestWrite2ShortHandBack: once a backlog is out, the plaintext it carried is
// skipped even when the caller hands it back over several writes, fewer bytes
// at a time: none of it is sealed twice.
func TestWrite2ShortHandBack(t *testing.T) {
	t.Parallel()
	c, _, peerIn := conn(t, nil)
	want := make([]byte, 1000)
	for i := range want {
		want[i] = byte(i)
	}
	s := &socket{take: 10}
	if n, err := c.Write2(s, want, nil); n != 0 || err != nil {
		t.Fatalf("Write2 = %d, %v; want 0 taken whole", n, err)
	}
	s.take = 1 << 30
	queue := want
	for _, k := range []int{100, 300, len(want)} { // handed back in three goes
		n, err := c.Write2(s, queue[:min(k, len(queue))], nil)
		if err != nil {
			t.Fatal(err)
		}
		queue = queue[n:]
	}
	if len(queue) != 0 || c.backlogged() {
		t.Fatalf("%d bytes left, backlog %v", len(queue), c.backlogged())
	}
	r, err := peerIn.Decrypt(s.out)
	if err != nil || r.Rest != 0 || !bytes.Equal(s.out[:r.Plain], want) {
		t.Fatalf("peer opened %d of %d bytes (rest %d), err %v", r.Plain, len(want), r.Rest, err)
	}
}
