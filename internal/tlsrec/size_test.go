package tlsrec

import (
	"crypto/tls"
	"testing"
	"unsafe"
)

// TestSize: a Reader and a Writer are 56 bytes each between records: the
// secret of the common suite (32), the sequence number, the clock of Relax,
// the flags and one pointer for what is derived or rare.
func TestSize(t *testing.T) {
	t.Parallel()
	if r, w := unsafe.Sizeof(Reader{}), unsafe.Sizeof(Writer{}); r > 56 || w > 56 {
		t.Errorf("Reader %d, Writer %d bytes, over 56", r, w)
	}
}

// TestIdleKeepsNothing: once dropped, a server's Reader and Writer of the
// SHA-256 suite with no option set keep no allocation at all (after records,
// a KeyUpdate each way, and the drops); a SHA-384 one keeps only its rare
// part (the secret's tail), never an AEAD.
func TestIdleKeepsNothing(t *testing.T) {
	t.Parallel()
	for _, suite := range suites {
		w, r := pair(t, suite, ReaderOptions{})
		var b []byte
		b = mustSeal(t, w, b, []byte("ping"))
		b, err := w.AppendKeyUpdate(b, true)
		if err != nil {
			t.Fatal(err)
		}
		b = mustSeal(t, w, b, []byte("pong"))
		res, err := r.Decrypt(b)
		if err != nil || string(b[:res.Plain]) != "pingpong" || !res.UpdateRequested {
			t.Fatalf("suite %#x: %q %+v %v", suite, b[:res.Plain], res, err)
		}
		w.Drop()
		r.Drop()
		for _, k := range []*trafficKey{&w.k, &r.k} {
			switch {
			case suite == tls.TLS_AES_128_GCM_SHA256 && k.x != nil:
				t.Errorf("suite %#x: an idle key keeps %+v", suite, *k.x)
			case k.x != nil && (k.x.aead != nil || k.x.more == nil):
				t.Errorf("suite %#x: an idle key keeps an AEAD or no tail: %+v", suite, *k.x)
			}
		}
	}
}
