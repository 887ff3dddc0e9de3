package tlsloop

import (
	"bytes"
	"crypto/tls"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/weir-ws/weir/internal/tlsrec"
)

// fakeReader is a read side over a stream handed out in random chunks.
type fakeReader struct {
	stream    []byte
	rng       *rand.Rand
	plain     []byte
	stopAfter int // Stopped once this much plaintext arrived (0: never)
	finished  bool
	updates   int
	ended     []string
	reads     int
	held      int // Hold's count
	limit     int // Hold refuses past it (0: never)
}

func (f *fakeReader) Read(w int, b []byte) (int, error) {
	f.reads++
	if len(f.stream) == 0 {
		return 0, io.EOF
	}
	n := copy(b, f.stream[:1+f.rng.IntN(len(f.stream))])
	f.stream = f.stream[n:]
	return n, nil
}

func (f *fakeReader) Plain(w int, p []byte) { f.plain = append(f.plain, p...) }
func (f *fakeReader) Stopped(int) bool      { return f.stopAfter > 0 && len(f.plain) >= f.stopAfter }
func (f *fakeReader) Finished(int) bool     { return f.finished }
func (f *fakeReader) UpdateOwed()           { f.updates++ }
func (f *fakeReader) EOF(int)               { f.ended = append(f.ended, "eof") }
func (f *fakeReader) Alert(int, error)      { f.ended = append(f.ended, "alert") }
func (f *fakeReader) BadRecord(int, error)  { f.ended = append(f.ended, "bad") }

func (f *fakeReader) OverBudget(int) { f.ended = append(f.ended, "budget") }

// Hold counts the charges, refusing any past limit when it is set.
func (f *fakeReader) Hold(d int) bool {
	if f.limit > 0 && f.held+d > f.limit {
		return false
	}
	f.held += d
	return true
}

func seal(t *testing.T, peer *tlsrec.Writer, msgs ...string) []byte {
	t.Helper()
	var out []byte
	for _, m := range msgs {
		var err error
		if out, err = peer.AppendSeal(out, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestReadTurns: whatever the read sizes and the buffer (a worker's, or one
// under ReadRoom), the leftover first and then the socket give the
// plaintext whole and in order, and nothing stays kept.
func TestReadTurns(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 30 {
		_, peer, _ := conn(t, nil)
		var want string
		var msgs []string
		for i := range 1 + rng.IntN(5) {
			m := strings.Repeat(string(rune('a'+i)), rng.IntN(2*tlsrec.MaxPlaintext))
			msgs = append(msgs, m)
			want += m
		}
		stream := seal(t, peer, msgs...)
		cut := rng.IntN(min(len(stream), 4096) + 1)
		c, _, _ := conn(t, nil)
		c = New(c.ConnectionState(), &c.r, &c.w, stream[:cut])
		r := &fakeReader{stream: stream[cut:], rng: rng}
		buf := make([]byte, []int{16, ReadRoom, 2 * ReadRoom}[round%3])
		for range 10000 {
			n, _, err := Read(c, r, 0, buf)
			if n == 0 || err != nil {
				break
			}
		}
		if string(r.plain) != want || c.kept() != nil {
			t.Fatalf("round %d: %d bytes (want %d), %d kept", round, len(r.plain), len(want), len(c.kept()))
		}
	}
}

// TestReadStopsAfterLeftover: a leftover whose plaintext stops the protocol
// (a deferred decision, a pause) is opened, and the socket is not read.
func TestReadStopsAfterLeftover(t *testing.T) {
	t.Parallel()
	_, peer, _ := conn(t, nil)
	c, _, _ := conn(t, nil)
	c = New(c.ConnectionState(), &c.r, &c.w, seal(t, peer, "request"))
	r := &fakeReader{stream: seal(t, peer, "more"), rng: rand.New(rand.NewPCG(1, 1)), stopAfter: 1}
	n, full, err := Read(c, r, 0, make([]byte, ReadRoom))
	if n != 1 || full || err != nil || r.reads != 0 || string(r.plain) != "request" {
		t.Fatalf("n %d full %v err %v, %d reads, plain %q", n, full, err, r.reads, r.plain)
	}
}

// TestReadEnds: what ends the stream reaches the read side once, after the
// plaintext before it, and not at all once the connection finished.
func TestReadEnds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		tail     func(*tlsrec.Writer) []byte
		finished bool
		want     string
	}{
		{"close_notify", func(p *tlsrec.Writer) []byte { b, _ := p.AppendCloseNotify(nil); return b }, false, "eof"},
		{"alert", func(p *tlsrec.Writer) []byte { b, _ := p.AppendAlert(nil, tlsrec.AlertInternalError); return b }, false, "alert"},
		{"bad record", func(p *tlsrec.Writer) []byte {
			b, _ := p.AppendSeal(nil, []byte("x"))
			b[len(b)-1] ^= 1
			return b
		}, false, "bad"},
		{"finished first", func(p *tlsrec.Writer) []byte { b, _ := p.AppendCloseNotify(nil); return b }, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, peer, _ := conn(t, nil)
			stream := append(seal(t, peer, "hello"), tc.tail(peer)...)
			r := &fakeReader{stream: stream, rng: rand.New(rand.NewPCG(7, 8)), finished: tc.finished}
			for range 100 {
				if n, _, _ := Read(c, r, 0, make([]byte, ReadRoom)); n == 0 {
					break
				}
			}
			if string(r.plain) != "hello" || strings.Join(r.ended, " ") != tc.want {
				t.Fatalf("plain %q, ended %q, want hello and %q", r.plain, r.ended, tc.want)
			}
		})
	}
}

// TestReadKeyUpdate: the peer's KeyUpdate request is passed on once.
func TestReadKeyUpdate(t *testing.T) {
	t.Parallel()
	c, peer, _ := conn(t, nil)
	stream, err := peer.AppendKeyUpdate(nil, true)
	if err != nil {
		t.Fatal(err)
	}
	stream = append(stream, seal(t, peer, "after")...)
	r := &fakeReader{stream: stream, rng: rand.New(rand.NewPCG(9, 9))}
	for range 100 {
		if n, _, _ := Read(c, r, 0, make([]byte, ReadRoom)); n == 0 {
			break
		}
	}
	if r.updates != 1 || !bytes.Equal(r.plain, []byte("after")) {
		t.Fatalf("%d updates, plain %q", r.updates, r.plain)
	}
}

// TestReadHold: what the read side charges (Reader.Hold) is the capacity of
// the buffer that keeps a partial record, after every read (the handshake's
// leftover is charged only for what stays of it), ReleaseRead returns it,
// and a refused growth lets the partial record go and ends the connection
// with OverBudget, after the plaintext before it.
func TestReadHold(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	want := "first" + strings.Repeat("x", tlsrec.MaxPlaintext) + "last"
	for round := range 20 {
		_, peer, _ := conn(t, nil)
		stream := seal(t, peer, "first", strings.Repeat("x", tlsrec.MaxPlaintext), "last")
		cut := 1 + rng.IntN(4096)
		if round%2 == 0 {
			cut = tlsrec.SealedLen(len("first")) + 3 // the leftover ends inside a record
		}
		c, _, _ := conn(t, nil)
		c = New(c.ConnectionState(), &c.r, &c.w, stream[:cut])
		r := &fakeReader{stream: stream[cut:], rng: rng}
		if round >= 10 {
			r.limit = 1
		}
		for range 1000 {
			n, _, err := Read(c, r, 0, make([]byte, ReadRoom))
			if r.held != cap(c.kept()) {
				t.Fatalf("round %d: charged %d, keeping %d", round, r.held, cap(c.kept()))
			}
			if n == 0 || err != nil { // after OverBudget too: the rest is read and dropped
				break
			}
		}
		if back := c.ReleaseRead(); back != r.held {
			t.Fatalf("round %d: ReleaseRead refunds %d of %d", round, back, r.held)
		}
		switch {
		case r.limit == 0 && (string(r.plain) != want || len(r.ended) != 0):
			t.Fatalf("round %d: %d bytes, ended %q", round, len(r.plain), r.ended)
		case r.limit > 0 && (strings.Join(r.ended, " ") != "budget" || !strings.HasPrefix(want, string(r.plain))):
			t.Fatalf("round %d: %d bytes, ended %q, want budget", round, len(r.plain), r.ended)
		}
	}
}

// TestReadHoldTicket: on a client, a NewSessionTicket cut across records
// (up to 64 KiB, which the Reader reassembles) is charged with the partial
// record (Conn.held), refunded once whole; a refused charge drops it and
// ends the connection with OverBudget.
func TestReadHoldTicket(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	body := 60 << 10
	msg := append([]byte{4, byte(body >> 16), byte(body >> 8), byte(body)}, bytes.Repeat([]byte{7}, body)...)
	for round := range 20 {
		peer, _ := pair(t)
		cr, err := tlsrec.NewReader(keys(), tlsrec.ReaderOptions{Client: true})
		if err != nil {
			t.Fatal(err)
		}
		w, _ := pair(t)
		c := New(tls.ConnectionState{Version: tls.VersionTLS13}, cr, w, nil)
		var stream []byte
		for m := msg; len(m) > 0; {
			n := min(len(m), tlsrec.MaxPlaintext)
			if stream, err = peer.AppendRecord(stream, 22, m[:n]); err != nil {
				t.Fatal(err)
			}
			m = m[n:]
		}
		stream = append(stream, seal(t, peer, "after")...)
		r := &fakeReader{stream: stream, rng: rng}
		if round >= 10 {
			r.limit = 48 << 10 // a record's buffer fits, the ticket does not
		}
		most := 0
		for range 10000 {
			n, _, err := Read(c, r, 0, make([]byte, ReadRoom))
			if r.held != c.held() {
				t.Fatalf("round %d: charged %d, keeping %d (ticket %d)", round, r.held, c.held(), cr.PendingSize())
			}
			most = max(most, r.held)
			if n == 0 || err != nil {
				break
			}
		}
		if back := c.ReleaseRead(); back != r.held {
			t.Fatalf("round %d: ReleaseRead refunds %d of %d", round, back, r.held)
		}
		switch {
		case r.limit == 0 && (string(r.plain) != "after" || len(r.ended) != 0 || most < body):
			t.Fatalf("round %d: %q, ended %q, most charged %d", round, r.plain, r.ended, most)
		case r.limit > 0 && (strings.Join(r.ended, " ") != "budget" || len(r.plain) != 0 || cr.PendingSize() != 0):
			t.Fatalf("round %d: %q, ended %q, want budget with the ticket dropped", round, r.plain, r.ended)
		}
	}
}
