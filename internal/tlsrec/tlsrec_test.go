package tlsrec

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"testing"
)

var suites = []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384}

func TestUnsupportedSuite(t *testing.T) {
	t.Parallel()
	for _, s := range []uint16{tls.TLS_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, 0} {
		if _, err := NewReader(Keys{Suite: s, Secret: make([]byte, 32)}, ReaderOptions{}); !errors.Is(err, ErrUnsupportedSuite) {
			t.Errorf("suite %#x: reader err %v", s, err)
		}
		if _, err := NewWriter(Keys{Suite: s, Secret: make([]byte, 32)}); !errors.Is(err, ErrUnsupportedSuite) {
			t.Errorf("suite %#x: writer err %v", s, err)
		}
	}
	if _, err := NewWriter(Keys{Suite: tls.TLS_AES_128_GCM_SHA256, Secret: make([]byte, 48)}); !errors.Is(err, ErrUnsupportedSuite) {
		t.Errorf("wrong secret length: %v", err)
	}
}

// TestRoundTripSplits seals every size class and feeds the stream to a
// Reader at random split points, with KeyUpdates in both forms in between.
func TestRoundTripSplits(t *testing.T) {
	t.Parallel()
	sizes := []int{0, 1, 100, 1<<14 - 1, 1 << 14, 1<<14 + 1, 1 << 20}
	for _, suite := range suites {
		rng := rand.New(rand.NewPCG(uint64(suite), 1))
		w, r := pair(t, suite, ReaderOptions{})
		var stream, want []byte
		for i, n := range sizes {
			p := make([]byte, n)
			for j := range p {
				p[j] = byte(rng.Uint32())
			}
			want = append(want, p...)
			stream = mustSeal(t, w, stream, p)
			if i == 2 {
				var err error
				if stream, err = w.AppendKeyUpdate(stream, false); err != nil {
					t.Fatal(err)
				}
			}
		}
		stream, _ = w.AppendCloseNotify(stream)
		if _, err := w.AppendSeal(nil, []byte("x")); !errors.Is(err, ErrClosed) {
			t.Fatalf("seal after close_notify: %v", err)
		}
		got, _, err := feed(r, stream, randomCuts(rng, len(stream)))
		if !errors.Is(err, io.EOF) {
			t.Fatalf("suite %#x: err %v, want EOF", suite, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("suite %#x: data differs (%d vs %d bytes)", suite, len(got), len(want))
		}
	}
}

func TestKeyUpdateRequested(t *testing.T) {
	t.Parallel()
	w, r := pair(t, tls.TLS_AES_128_GCM_SHA256, ReaderOptions{})
	b, _ := w.AppendKeyUpdate(nil, true)
	b = mustSeal(t, w, b, []byte("after"))
	got, upd, err := feed(r, b, nil)
	if err != nil || !upd || string(got) != "after" {
		t.Fatalf("got %q upd %v err %v", got, upd, err)
	}
}

func TestAutoUpdate(t *testing.T) {
	t.Parallel()
	w, r := pair(t, tls.TLS_AES_128_GCM_SHA256, ReaderOptions{})
	w.SetAutoUpdate(3)
	var b []byte
	for i := 0; i < 10; i++ {
		b = mustSeal(t, w, b, []byte{byte(i)})
	}
	got, _, err := feed(r, b, nil)
	if err != nil || len(got) != 10 {
		t.Fatalf("got %v err %v", got, err)
	}
	if r.k.seq != 1 || w.k.seq != 1 { // 10 records, an update before the 4th, 7th and 10th
		t.Fatalf("seq r %d w %d", r.k.seq, w.k.seq)
	}
}

func TestSeqExhausted(t *testing.T) {
	t.Parallel()
	// A Writer never gets near the end of the sequence numbers: its
	// automatic KeyUpdate, at most 2^32-1 records into a key, restarts them
	// (so the Writer at 2^64-3 updates before its first record, and the
	// reader of the old key takes that record and the next at 0). The
	// nonce's own guard is checked on the key.
	var k trafficKey
	if err := k.init(Keys{Suite: tls.TLS_AES_128_GCM_SHA256, Secret: testKeys(tls.TLS_AES_128_GCM_SHA256).Secret, Seq: 1<<64 - 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.aeadFor(); err != nil {
		t.Fatal(err)
	}
	if _, err := k.next(); err != nil {
		t.Fatal(err)
	}
	if _, err := k.next(); !errors.Is(err, ErrSeqExhausted) {
		t.Fatalf("err %v, want ErrSeqExhausted", err)
	}
	w, err := NewWriter(Keys{Suite: tls.TLS_AES_128_GCM_SHA256, Secret: testKeys(tls.TLS_AES_128_GCM_SHA256).Secret, Seq: 1<<64 - 3})
	if err != nil {
		t.Fatal(err)
	}
	w.SetAutoUpdate(math.MaxUint32)
	for _, p := range []string{"a", "b", "c"} {
		if _, err := w.AppendSeal(nil, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if w.k.seq != 3 {
		t.Fatalf("seq %d after the automatic update and 3 records, want 3", w.k.seq)
	}
}

func TestSessionTicket(t *testing.T) {
	t.Parallel()
	nst := []byte{hsNewSessionTicket, 0, 0, 3, 1, 2, 3}
	for _, client := range []bool{true, false} {
		var got [][]byte
		w, r := pair(t, tls.TLS_AES_128_GCM_SHA256, ReaderOptions{Client: client, OnSessionTicket: func(m []byte) {
			got = append(got, append([]byte(nil), m...))
		}})
		// Two tickets coalesced in one record, then one cut across two.
		b, _ := w.seal(nil, append(append([]byte(nil), nst...), nst...), typeHandshake)
		b, _ = w.seal(b, nst[:2], typeHandshake)
		b, _ = w.seal(b, nst[2:], typeHandshake)
		b = mustSeal(t, w, b, []byte("x"))
		data, _, err := feed(r, b, nil)
		if client {
			if err != nil || len(got) != 3 || !bytes.Equal(got[2], nst) || string(data) != "x" || r.Pending() {
				t.Fatalf("client: got %q data %q err %v", got, data, err)
			}
		} else if code, ok := AlertToSend(err); !ok || code != AlertUnexpectedMessage {
			t.Fatalf("server: err %v", err)
		}
	}
}

func TestRemoteAlert(t *testing.T) {
	t.Parallel()
	w, r := pair(t, tls.TLS_AES_128_GCM_SHA256, ReaderOptions{})
	b := mustSeal(t, w, nil, []byte("last"))
	b, _ = w.AppendAlert(b, AlertInternalError)
	data, _, err := feed(r, b, nil)
	var ae *AlertError
	if !errors.As(err, &ae) || !ae.Remote || ae.Code != AlertInternalError || string(data) != "last" {
		t.Fatalf("data %q err %v", data, err)
	}
	if _, ok := AlertToSend(err); ok {
		t.Fatal("a remote alert must not be answered")
	}
	if _, err2 := r.Open(b); err2 != err {
		t.Fatalf("error not sticky: %v", err2)
	}
}
