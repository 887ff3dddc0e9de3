package tlsrec

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// wop is one step of a send-side script: seal n bytes, or a KeyUpdate.
type wop struct {
	n   int  // bytes to seal (ku false)
	ku  bool // a KeyUpdate instead
	req bool // ... with update_requested
}

// dropScript crosses record boundaries (a 2^14+1 seal is two records), runs
// the automatic KeyUpdate (AutoUpdate 3) and both kinds of explicit one,
// including two in a row and one as the very first and last step.
var dropScript = []wop{
	{ku: true}, {n: 5}, {n: 1<<14 + 1}, {n: 0}, {n: 100}, {ku: true, req: true}, {ku: true},
	{n: 7}, {n: 1 << 14}, {n: 3}, {n: 9}, {n: 1}, {ku: true},
}

// runScript seals the script with a fresh Writer; before step i, for each i
// in drops (len(dropScript) means after the last step), the Writer drops its
// AEAD; every: before and after every step.
func runScript(t *testing.T, suite uint16, drops map[int]bool, every bool) ([]byte, []byte) {
	t.Helper()
	w, err := NewWriter(testKeys(suite))
	if err != nil {
		t.Fatal(err)
	}
	w.SetAutoUpdate(3)
	var stream, want []byte
	for i, op := range dropScript {
		if drops[i] || every {
			w.Drop()
			if w.Holding() {
				t.Fatal("Holding after Drop")
			}
		}
		if op.ku {
			stream, err = w.AppendKeyUpdate(stream, op.req)
		} else {
			p := bytes.Repeat([]byte{byte(i + 1)}, op.n)
			want = append(want, p...)
			stream, err = w.AppendSeal(stream, p)
		}
		if err != nil {
			t.Fatal(err)
		}
		if every {
			w.Drop()
		}
	}
	if drops[len(dropScript)] || every {
		w.Drop()
	}
	stream, err = w.AppendCloseNotify(stream)
	if err != nil {
		t.Fatal(err)
	}
	return stream, want
}

// TestDropSealEveryPoint: a Writer that drops its AEAD before any one step
// of the script, or around every step, produces exactly the bytes of one that
// never drops: the same keys and the same nonces (RFC 8446 §5.3: IV xor the
// sequence number, which survives the drop), KeyUpdates included. A nonce
// reused or restarted, or a record sealed under the old key after a
// KeyUpdate, would change the bytes.
func TestDropSealEveryPoint(t *testing.T) {
	t.Parallel()
	for _, suite := range suites {
		ref, want := runScript(t, suite, nil, false)
		for i := 0; i <= len(dropScript); i++ {
			got, _ := runScript(t, suite, map[int]bool{i: true}, false)
			if !bytes.Equal(got, ref) {
				t.Fatalf("suite %#x: drop before step %d changes the records", suite, i)
			}
		}
		got, _ := runScript(t, suite, nil, true)
		if !bytes.Equal(got, ref) {
			t.Fatalf("suite %#x: dropping around every step changes the records", suite)
		}
		// And a Reader opens the reference with no drops.
		_, r := pair(t, suite, ReaderOptions{})
		data, _, err := feed(r, ref, nil)
		if !errors.Is(err, io.EOF) || !bytes.Equal(data, want) {
			t.Fatalf("suite %#x: read %d of %d bytes, err %v", suite, len(data), len(want), err)
		}
	}
}

// TestDropOpenEveryPoint: a Reader that drops its AEAD before record i (for
// every i, KeyUpdate records and the records right after them included), or
// after every Decrypt of a random split, opens the stream whole and ends with
// close_notify, its sequence number where a Reader without drops has it.
func TestDropOpenEveryPoint(t *testing.T) {
	t.Parallel()
	for _, suite := range suites {
		ref, want := runScript(t, suite, nil, false)
		var recs [][]byte
		for s := ref; len(s) > 0; {
			n := HeaderLen + (int(s[3])<<8 | int(s[4]))
			recs, s = append(recs, s[:n]), s[n:]
		}
		for i := range recs {
			_, r := pair(t, suite, ReaderOptions{})
			var data []byte
			var err error
			for j, rec := range recs {
				if j == i {
					r.Drop()
				}
				c := append([]byte(nil), rec...)
				var res Result
				res, err = r.Decrypt(c)
				data = append(data, c[:res.Plain]...)
				if err != nil {
					break
				}
			}
			if !errors.Is(err, io.EOF) || !bytes.Equal(data, want) {
				t.Fatalf("suite %#x: drop before record %d of %d: read %d of %d bytes, err %v", suite, i, len(recs), len(data), len(want), err)
			}
		}
		rng := rand.New(rand.NewPCG(uint64(suite), 5))
		for round := 0; round < 20; round++ {
			_, r := pair(t, suite, ReaderOptions{})
			data, err := feedDropping(r, ref, randomCuts(rng, len(ref)))
			if !errors.Is(err, io.EOF) || !bytes.Equal(data, want) {
				t.Fatalf("suite %#x round %d: read %d of %d bytes, err %v", suite, round, len(data), len(want), err)
			}
		}
	}
}

// feedDropping is feed with a Drop after every Decrypt (no KeyUpdate requests).
func feedDropping(r *Reader, stream []byte, cuts []int) ([]byte, error) {
	var out, buf []byte
	prev := 0
	for _, c := range append(cuts, len(stream)) {
		if c < prev || c > len(stream) {
			continue
		}
		buf = append(buf, stream[prev:c]...)
		prev = c
		res, err := r.Decrypt(buf)
		r.Drop()
		out = append(out, buf[:res.Plain]...)
		if err != nil {
			return out, err
		}
		buf = append(buf[:0], buf[res.Plain:res.Plain+res.Rest]...)
	}
	if len(buf) > 0 {
		return out, io.ErrUnexpectedEOF
	}
	return out, nil
}

// TestRelax: the first Relax drops (a connection idle since its hand-off);
// one within IdleAfter of the previous keeps the AEAD (a busy direction never
// rebuilds); one IdleAfter or more after the previous drops it; the records
// go on either way.
func TestRelax(t *testing.T) {
	t.Parallel()
	w, r := pair(t, tls.TLS_AES_128_GCM_SHA256, ReaderOptions{})
	if w.Holding() || r.Holding() {
		t.Fatal("an AEAD before the first record")
	}
	var stream []byte
	step := func(name string, back bool, wantHold bool) {
		t.Helper()
		stream = mustSeal(t, w, stream[:0], []byte(name))
		res, err := r.Decrypt(stream)
		if err != nil || string(stream[:res.Plain]) != name {
			t.Fatalf("%s: %q %v", name, stream[:res.Plain], err)
		}
		if !w.Holding() || !r.Holding() {
			t.Fatalf("%s: no AEAD right after a record", name)
		}
		if back { // the previous burst was IdleAfter ago
			w.k.last -= uint32(IdleAfter / time.Millisecond)
			r.k.last -= uint32(IdleAfter / time.Millisecond)
		}
		w.Relax()
		r.Relax()
		if w.Holding() != wantHold || r.Holding() != wantHold {
			t.Fatalf("%s: holding w %v r %v, want %v", name, w.Holding(), r.Holding(), wantHold)
		}
	}
	step("first", false, false)
	step("busy", false, true)
	step("busy again", false, true)
	step("after a pause", true, false)
	step("busy once more", false, true)
}

// TestDropAllocs: a Drop costs nothing; the rebuild is the HMAC of derive
// (key and IV from the secret) and the AEAD's allocations (13 with Go 1.26,
// 15 under -race), and sealing with an AEAD in place allocates nothing.
// TestRelaxClock: the 32-bit millisecond clock of Relax measures gaps across
// its wrap (every 49.7 days): a burst 999 ms after the previous keeps the
// AEAD, one 1000 ms after drops it, wherever the two fall.
func TestRelaxClock(t *testing.T) {
	t.Parallel()
	w, _ := pair(t, tls.TLS_AES_128_GCM_SHA256, ReaderOptions{})
	for _, at := range []uint32{1, 12345, math.MaxUint32 - 998, math.MaxUint32 - 400, math.MaxUint32} {
		for _, c := range []struct {
			gap  uint32
			drop bool
		}{{0, false}, {999, false}, {1000, true}, {5000, true}} {
			w.k.last = at
			if _, err := w.AppendSeal(nil, []byte("x")); err != nil {
				t.Fatal(err)
			}
			w.k.relaxAt(at + c.gap)
			if w.Holding() == c.drop {
				t.Errorf("previous burst at %d ms, this one %d ms later: holding %v", at, c.gap, w.Holding())
			}
		}
	}
}

func TestDropAllocs(t *testing.T) {
	w, _ := pair(t, tls.TLS_AES_128_GCM_SHA256, ReaderOptions{})
	dst := make([]byte, 0, 256)
	p := make([]byte, 64)
	mustSeal(t, w, dst, p)
	if a := testing.AllocsPerRun(100, func() { mustSeal(t, w, dst, p) }); a != 0 {
		t.Errorf("seal with the AEAD built: %v allocs", a)
	}
	if a := testing.AllocsPerRun(100, func() { w.Drop(); mustSeal(t, w, dst, p) }); a > 16 {
		t.Errorf("drop + rebuild + seal: %v allocs", a)
	}
}

// TestDeriveMatchesHKDF: the one-block HKDF-Expand of derive gives what
// crypto/hkdf's HKDF-Expand-Label gives, for both suites and many secrets.
func TestDeriveMatchesHKDF(t *testing.T) {
	t.Parallel()
	for _, suite := range []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384} {
		k := testKeys(suite)
		for i := range 50 {
			for j := range k.Secret {
				k.Secret[j] = byte(i*31 + j*7)
			}
			var tk trafficKey
			if err := tk.init(k); err != nil {
				t.Fatal(err)
			}
			key := make([]byte, tk.keyLen())
			iv := make([]byte, 12)
			tk.derive(key, iv)
			wantKey, _ := expandLabel(tk.hash, k.Secret, "key", tk.keyLen())
			wantIV, _ := expandLabel(tk.hash, k.Secret, "iv", 12)
			if !bytes.Equal(key, wantKey) || !bytes.Equal(iv, wantIV) {
				t.Fatalf("suite %#x secret %d: key %x iv %x, want %x %x", suite, i, key, iv, wantKey, wantIV)
			}

		}
	}
}

// TestDeriveAllocs: derive allocates nothing (it runs at each rebuild, on an
// idle connection once per keepalive round in each direction).
func TestDeriveAllocs(t *testing.T) {
	for _, suite := range []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384} {
		var tk trafficKey
		if err := tk.init(testKeys(suite)); err != nil {
			t.Fatal(err)
		}
		key, iv := make([]byte, tk.keyLen()), make([]byte, 12)
		if n := testing.AllocsPerRun(10, func() { tk.derive(key, iv) }); n != 0 {
			t.Errorf("suite %#x: derive allocates %v times", suite, n)
		}
	}
}
