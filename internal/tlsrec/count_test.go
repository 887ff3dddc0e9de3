package tlsrec

import (
	"bytes"
	"crypto/tls"
	"testing"
)

// TestNewWriterAfter: a Writer made after counting a stream (the handshake's
// flights: records under another key, then some under this one) seals what a
// NewWriter given the count as its sequence number seals, byte for byte, and
// holds the AEAD the count built; a stream that does not count gives an error.
func TestNewWriterAfter(t *testing.T) {
	t.Parallel()
	for _, suite := range []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384} {
		for _, sealed := range []int{0, 1, 3} {
			other := testKeys(suite)
			other.Secret = bytes.Repeat([]byte{0x5a}, len(other.Secret))
			hw, err := NewWriter(other) // the handshake's key
			if err != nil {
				t.Fatal(err)
			}
			var stream []byte
			stream = append(stream, 22, 3, 3, 0, 2, 1, 2) // a plaintext record first (a ServerHello's place)
			for range 2 {
				stream = mustSeal(t, hw, stream, []byte("handshake"))
			}
			aw, err := NewWriter(testKeys(suite))
			if err != nil {
				t.Fatal(err)
			}
			for range sealed {
				stream = mustSeal(t, aw, stream, []byte("ticket"))
			}
			n, err := CountOpened(testKeys(suite), bytes.Clone(stream))
			if err != nil || n != uint64(sealed) {
				t.Fatalf("CountOpened = %d, %v; want %d", n, err, sealed)
			}
			w, err := NewWriterAfter(testKeys(suite), bytes.Clone(stream))
			if err != nil {
				t.Fatal(err)
			}
			if !w.Holding() {
				t.Errorf("suite %x, %d sealed: the Writer does not keep the count's AEAD", suite, sealed)
			}
			k := testKeys(suite)
			k.Seq = n
			want, err := NewWriter(k)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				got, exp := mustSeal(t, w, nil, []byte("next")), mustSeal(t, want, nil, []byte("next"))
				if !bytes.Equal(got, exp) {
					t.Fatalf("suite %x, %d sealed, record %d: differs from a Writer at sequence %d", suite, sealed, i, n)
				}
			}
			if _, err := NewWriterAfter(testKeys(suite), stream[:len(stream)-1]); err == nil {
				t.Errorf("suite %x, %d sealed: a cut stream counts", suite, sealed)
			}
		}
	}
}
