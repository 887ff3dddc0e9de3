package tlsrec

import (
	"bytes"
	"crypto/tls"
	"math/rand/v2"
	"testing"
)

// TestAppendSeal2 checks that a and b sealed together are the records of
// a||b: the same bytes as AppendSeal of the joined slice, for splits at
// every kind of point (empty a, a record boundary inside b, a past a
// record).
func TestAppendSeal2(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	p := make([]byte, 3*MaxPlaintext+77)
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	for _, cut := range []int{0, 1, 14, MaxPlaintext - 1, MaxPlaintext, MaxPlaintext + 1, 2*MaxPlaintext + 5, len(p)} {
		w1, _ := pair(t, tls.TLS_AES_128_GCM_SHA256, ReaderOptions{})
		w2, r := pair(t, tls.TLS_AES_128_GCM_SHA256, ReaderOptions{})
		want, err := w1.AppendSeal(nil, p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := w2.AppendSeal2(nil, p[:cut], p[cut:])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("cut %d: AppendSeal2 differs from AppendSeal", cut)
		}
		res, err := r.Decrypt(got)
		if err != nil || !bytes.Equal(got[:res.Plain], p) {
			t.Fatalf("cut %d: opened %d bytes, %v", cut, res.Plain, err)
		}
	}
}
