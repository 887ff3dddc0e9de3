package tlsrec

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"testing"
)

// kernelAEAD is what a kernel does with a KernelState for one record: the
// nonce Salt || IV XOR the sequence number, the record header as the
// additional data (RFC 8446 §5.2), the inner plaintext content || type.
func kernelAEAD(t *testing.T, ks KernelState) (cipher.AEAD, func(seq uint64) []byte) {
	t.Helper()
	block, err := aes.NewCipher(ks.Key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return aead, func(seq uint64) []byte {
		n := make([]byte, 12)
		copy(n, ks.Salt[:])
		copy(n[4:], ks.IV[:])
		var s [8]byte
		binary.BigEndian.PutUint64(s[:], seq)
		for i := range s {
			n[4+i] ^= s[i]
		}
		return n
	}
}

// TestWriterHandOver: the state a Writer hands over seals, as a kernel
// would, the record that comes next in the sequence its peer's Reader
// expects; the Writer seals nothing more.
func TestWriterHandOver(t *testing.T) {
	t.Parallel()
	for _, suite := range []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384} {
		w, r := pair(t, suite, ReaderOptions{})
		var stream []byte
		for _, p := range []string{"one", "two", "three"} {
			stream = mustSeal(t, w, stream, []byte(p))
		}
		ks, err := w.HandOver()
		if err != nil {
			t.Fatal(err)
		}
		if ks.Suite != suite || ks.Seq != 3 || len(ks.Key) != map[uint16]int{tls.TLS_AES_128_GCM_SHA256: 16, tls.TLS_AES_256_GCM_SHA384: 32}[suite] {
			t.Fatalf("suite %#x: state %#x seq %d key %d bytes", suite, ks.Suite, ks.Seq, len(ks.Key))
		}
		aead, nonce := kernelAEAD(t, ks)
		inner := append([]byte("by the kernel"), typeAppData)
		hdr := []byte{typeAppData, 3, 3, 0, byte(len(inner) + aead.Overhead())}
		stream = aead.Seal(append(stream, hdr...), nonce(ks.Seq), inner, hdr)

		got, _, err := feed(r, stream, nil)
		if err != nil || string(got) != "onetwothreeby the kernel" {
			t.Fatalf("suite %#x: peer read %q, %v", suite, got, err)
		}
		if _, err := w.AppendSeal(nil, []byte("again")); !errors.Is(err, ErrClosed) {
			t.Fatalf("suite %#x: seal after the hand-over: %v", suite, err)
		}
		if _, err := w.HandOver(); !errors.Is(err, ErrClosed) {
			t.Fatalf("suite %#x: second hand-over: %v", suite, err)
		}
	}
}

// TestReaderHandOver: the state a Reader hands over opens, as a kernel
// would, the next record its peer seals; the Reader opens nothing more. A
// Reader holding part of a post-handshake message refuses, unchanged.
func TestReaderHandOver(t *testing.T) {
	t.Parallel()
	for _, suite := range []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384} {
		w, r := pair(t, suite, ReaderOptions{})
		if got, _, err := feed(r, mustSeal(t, w, mustSeal(t, w, nil, []byte("a")), []byte("b")), nil); err != nil || string(got) != "ab" {
			t.Fatalf("suite %#x: %q, %v", suite, got, err)
		}
		ks, err := r.HandOver()
		if err != nil {
			t.Fatal(err)
		}
		if ks.Seq != 2 {
			t.Fatalf("suite %#x: seq %d, want 2", suite, ks.Seq)
		}
		rec := mustSeal(t, w, nil, []byte("for the kernel"))
		aead, nonce := kernelAEAD(t, ks)
		inner, err := aead.Open(nil, nonce(ks.Seq), rec[HeaderLen:], rec[:HeaderLen])
		if err != nil || !bytes.Equal(inner, append([]byte("for the kernel"), typeAppData)) {
			t.Fatalf("suite %#x: the kernel's open: %q, %v", suite, inner, err)
		}
		if _, err := r.Open(rec); !errors.Is(err, ErrHandedOver) {
			t.Fatalf("suite %#x: open after the hand-over: %v", suite, err)
		}
		if _, err := r.HandOver(); !errors.Is(err, ErrHandedOver) {
			t.Fatalf("suite %#x: second hand-over: %v", suite, err)
		}
	}

	// A KeyUpdate cut after its message header: the kernel would get the rest.
	w, r := pair(t, tls.TLS_AES_128_GCM_SHA256, ReaderOptions{})
	part, err := w.seal(nil, []byte{hsKeyUpdate, 0, 0, 1}, typeHandshake)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := feed(r, part, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r.HandOver(); !errors.Is(err, errPendingMessage) {
		t.Fatalf("hand-over inside a message: %v", err)
	}
	rest, err := w.seal(nil, []byte{0}, typeHandshake) // update_not_requested
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := feed(r, rest, nil); err != nil {
		t.Fatalf("the Reader after a refused hand-over: %v", err)
	}
	if ks, err := r.HandOver(); err != nil || ks.Seq != 0 {
		t.Fatalf("hand-over after the KeyUpdate: seq %d, %v (want 0: a new key)", ks.Seq, err)
	}
}
