package tlsrec

import (
	"crypto/tls"
	"errors"
	"testing"
)

// TestBadRecords: every violation gets its alert and an error, never a panic,
// and a bad header is refused before its body arrives.
func TestBadRecords(t *testing.T) {
	t.Parallel()
	seal := func(content []byte, typ byte) []byte {
		w, _ := NewWriter(testKeys(tls.TLS_AES_128_GCM_SHA256))
		b, _ := w.seal(nil, content, typ)
		return b
	}
	good := seal([]byte("hello"), typeAppData)
	flip := func(i int) []byte {
		b := append([]byte(nil), good...)
		b[i] ^= 1
		return b
	}
	// sealRaw seals inner as the whole inner plaintext (content type included).
	sealRaw := func(inner []byte) []byte {
		w, _ := NewWriter(testKeys(tls.TLS_AES_128_GCM_SHA256))
		aead, _ := w.k.aeadFor()
		nonce, _ := w.k.next()
		n := len(inner) + tagLen
		b := []byte{typeAppData, 3, 3, byte(n >> 8), byte(n)}
		return aead.Seal(b, nonce, inner, b)
	}
	tests := []struct {
		name string
		in   []byte
		code uint8
	}{
		{"bad tag", flip(len(good) - 1), AlertBadRecordMAC},
		{"bad ciphertext", flip(HeaderLen), AlertBadRecordMAC},
		{"header changed (ad)", func() []byte { b := flip(4); b = append(b, 0); return b }(), AlertBadRecordMAC},
		{"plaintext handshake", []byte{22, 3, 3, 0, 4}, AlertUnexpectedMessage},
		{"plaintext alert", []byte{21, 3, 3, 0, 2, 2, 40}, AlertUnexpectedMessage},
		{"change_cipher_spec", []byte{20, 3, 3, 0, 1, 1}, AlertUnexpectedMessage},
		{"version", []byte{23, 3, 1, 0, 40}, AlertProtocolVersion},
		{"over-long header only", []byte{23, 3, 3, 0x41, 0x01}, AlertRecordOverflow},
		{"max length", []byte{23, 3, 3, 0xff, 0xff}, AlertRecordOverflow},
		{"shorter than tag", append([]byte{23, 3, 3, 0, 16}, make([]byte, 16)...), AlertBadRecordMAC},
		{"inner too long", sealRaw(append(make([]byte, MaxPlaintext+1), typeAppData)), AlertRecordOverflow},
		{"all zero inner", sealRaw(make([]byte, 10)), AlertUnexpectedMessage},
		{"empty inner", sealRaw(nil), AlertUnexpectedMessage},
		{"ccs inner", sealRaw([]byte{1, 20}), AlertUnexpectedMessage},
		{"unknown inner type", sealRaw([]byte{1, 99}), AlertUnexpectedMessage},
		{"empty handshake", seal(nil, typeHandshake), AlertUnexpectedMessage},
		{"alert 3 bytes", seal([]byte{1, 0, 0}, typeAlert), AlertDecodeError},
		{"keyupdate long", seal([]byte{hsKeyUpdate, 0, 0, 2, 0, 0}, typeHandshake), AlertDecodeError},
		{"keyupdate bad value", seal([]byte{hsKeyUpdate, 0, 0, 1, 2}, typeHandshake), AlertIllegalParameter},
		{"keyupdate not last", seal([]byte{hsKeyUpdate, 0, 0, 1, 0, hsKeyUpdate}, typeHandshake), AlertUnexpectedMessage},
		{"certificate request", seal([]byte{13, 0, 0, 0}, typeHandshake), AlertUnexpectedMessage},
		{"handshake too long", seal([]byte{4, 0x01, 0, 1}, typeHandshake), AlertDecodeError},
		{"data inside fragmented handshake", append(seal([]byte{4, 0, 0, 9, 1}, typeHandshake),
			func() []byte {
				w, _ := NewWriter(testKeys(tls.TLS_AES_128_GCM_SHA256))
				w.seal(nil, nil, 0)
				b, _ := w.seal(nil, []byte("x"), typeAppData)
				return b
			}()...), AlertUnexpectedMessage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := NewReader(testKeys(tls.TLS_AES_128_GCM_SHA256), ReaderOptions{Client: true})
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = feed(r, tc.in, []int{1, 3, 5, 6})
			code, ok := AlertToSend(err)
			if !ok || code != tc.code {
				t.Fatalf("err %v, want local alert %d", err, tc.code)
			}
		})
	}
}

// TestHeaderCheckedEarly: a bad header fails with only its 5 bytes fed.
func TestHeaderCheckedEarly(t *testing.T) {
	t.Parallel()
	r, _ := NewReader(testKeys(tls.TLS_AES_128_GCM_SHA256), ReaderOptions{})
	rec, err := r.Open([]byte{23, 3, 3, 0x41, 0x01})
	var ae *AlertError
	if rec.N != 0 || !errors.As(err, &ae) || ae.Code != AlertRecordOverflow {
		t.Fatalf("rec %+v err %v", rec, err)
	}
}
