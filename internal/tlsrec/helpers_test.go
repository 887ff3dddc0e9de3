package tlsrec

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

func testKeys(suite uint16) Keys {
	n := 32
	if suite == tls.TLS_AES_256_GCM_SHA384 {
		n = 48
	}
	s := make([]byte, n)
	for i := range s {
		s[i] = byte(i * 7)
	}
	return Keys{Suite: suite, Secret: s}
}

func pair(t testing.TB, suite uint16, opt ReaderOptions) (*Writer, *Reader) {
	t.Helper()
	w, err := NewWriter(testKeys(suite))
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(testKeys(suite), opt)
	if err != nil {
		t.Fatal(err)
	}
	return w, r
}

// feed gives stream to r in chunks cut at the given points, the way a worker
// would: append what was read after the bytes kept, Decrypt, keep the rest.
// It returns the application data and the first error.
func feed(r *Reader, stream []byte, cuts []int) ([]byte, bool, error) {
	var out, buf []byte
	upd := false
	prev := 0
	cuts = append(cuts, len(stream))
	for _, c := range cuts {
		if c < prev || c > len(stream) {
			continue
		}
		buf = append(buf, stream[prev:c]...)
		prev = c
		res, err := r.Decrypt(buf)
		out = append(out, buf[:res.Plain]...)
		upd = upd || res.UpdateRequested
		if err != nil {
			return out, upd, err
		}
		buf = append(buf[:0], buf[res.Plain:res.Plain+res.Rest]...)
	}
	if len(buf) > 0 {
		return out, upd, io.ErrUnexpectedEOF
	}
	return out, upd, nil
}

func randomCuts(rng *rand.Rand, n int) []int {
	var cuts []int
	for p := 0; p < n; {
		p += 1 + rng.IntN(max(1, min(n/4+1, 20000)))
		cuts = append(cuts, p)
	}
	return cuts
}

func sameErr(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	if errors.Is(a, io.EOF) || errors.Is(b, io.EOF) {
		return errors.Is(a, io.EOF) && errors.Is(b, io.EOF)
	}
	var x, y *AlertError
	if errors.As(a, &x) && errors.As(b, &y) {
		return *x == *y
	}
	return a.Error() == b.Error()
}

func mustSeal(t testing.TB, w *Writer, dst, p []byte) []byte {
	t.Helper()
	out, err := w.AppendSeal(dst, p)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var _ = bytes.Equal
