package tlsrec

import (
	"bytes"
	"crypto/tls"
	"math/rand/v2"
	"testing"
)

// FuzzReader feeds a stream whole and at random split points and checks that
// every split gives the same data, the same KeyUpdate request and the same
// error, and that a stream of valid records gives back what was sealed.
// mode 0: valid records built from data (with KeyUpdates and a ticket);
// mode 1: the same with one byte flipped; otherwise data is the raw stream.
func FuzzReader(f *testing.F) {
	f.Add([]byte("hello world"), uint8(0), uint64(1))
	f.Add(bytes.Repeat([]byte{7}, 40000), uint8(0), uint64(2))
	f.Add([]byte("abc"), uint8(1), uint64(3))
	f.Add([]byte{23, 3, 3, 0, 20, 1, 2, 3}, uint8(2), uint64(4))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, seed>>7))
		stream := data
		var want []byte
		if mode%3 != 2 {
			w, _ := NewWriter(testKeys(tls.TLS_AES_128_GCM_SHA256))
			stream = nil
			for p := data; len(p) > 0; {
				n := min(len(p), 1+rng.IntN(20000))
				stream = mustSeal(t, w, stream, p[:n])
				want = append(want, p[:n]...)
				p = p[n:]
				switch rng.IntN(4) {
				case 0:
					stream, _ = w.AppendKeyUpdate(stream, rng.IntN(2) == 0)
				case 1:
					stream, _ = w.seal(stream, []byte{hsNewSessionTicket, 0, 0, 1, 9}, typeHandshake)
				}
			}
			if mode%3 == 1 && len(stream) > 0 {
				stream[int(seed%uint64(len(stream)))] ^= byte(1 + seed>>60)
			}
		}
		r1, _ := NewReader(testKeys(tls.TLS_AES_128_GCM_SHA256), ReaderOptions{Client: true})
		whole, upd1, err1 := feed(r1, append([]byte(nil), stream...), nil)
		r2, _ := NewReader(testKeys(tls.TLS_AES_128_GCM_SHA256), ReaderOptions{Client: true})
		split, upd2, err2 := feed(r2, append([]byte(nil), stream...), randomCuts(rng, len(stream)))
		if !bytes.Equal(whole, split) || upd1 != upd2 || !sameErr(err1, err2) {
			t.Fatalf("split differs: %d/%d bytes, upd %v/%v, err %v / %v", len(whole), len(split), upd1, upd2, err1, err2)
		}
		// A server's Reader, which refuses a ticket from its header: the
		// same at every split too.
		s1, _ := NewReader(testKeys(tls.TLS_AES_128_GCM_SHA256), ReaderOptions{})
		swhole, _, serr1 := feed(s1, append([]byte(nil), stream...), nil)
		s2, _ := NewReader(testKeys(tls.TLS_AES_128_GCM_SHA256), ReaderOptions{})
		ssplit, _, serr2 := feed(s2, append([]byte(nil), stream...), randomCuts(rng, len(stream)))
		if !bytes.Equal(swhole, ssplit) || !sameErr(serr1, serr2) {
			t.Fatalf("server: split differs: %d/%d bytes, err %v / %v", len(swhole), len(ssplit), serr1, serr2)
		}
		// The same with the AEAD dropped after every Decrypt (idle.go): a
		// rebuilt AEAD opens exactly what a kept one does.
		r3, _ := NewReader(testKeys(tls.TLS_AES_128_GCM_SHA256), ReaderOptions{Client: true})
		dropped, err3 := feedDropping(r3, append([]byte(nil), stream...), randomCuts(rng, len(stream)))
		if !bytes.Equal(whole, dropped) || !sameErr(err1, err3) {
			t.Fatalf("with drops differs: %d/%d bytes, err %v / %v", len(whole), len(dropped), err1, err3)
		}
		if mode%3 == 0 && (err1 != nil || !bytes.Equal(whole, want)) {
			t.Fatalf("valid stream: err %v, %d of %d bytes", err1, len(whole), len(want))
		}
	})
}
