package tlsrec

import (
	"crypto/tls"
	"testing"
)

// TestPendingRefusedEarly: a post-handshake message this side would refuse
// whole is refused as soon as its type (and, for a KeyUpdate, its length) is
// there, before its body is kept: otherwise a peer makes a server hold up to
// 64 KiB per connection (a NewSessionTicket claimed 64 KiB long, sent in
// part) for a message that ends the connection anyway (RFC 8446 §4.6: a
// server receives only KeyUpdate; §4.6.3: its body is one byte).
func TestPendingRefusedEarly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		client bool
		msg    []byte // the start of the message, in one record
		code   uint8  // 0: kept, legitimately pending
	}{
		{"ticket to a server", false, []byte{hsNewSessionTicket, 1, 0, 0, 9, 9, 9}, AlertUnexpectedMessage},
		{"ticket type only, to a server", false, []byte{hsNewSessionTicket}, AlertUnexpectedMessage},
		{"certificate request to a server", false, []byte{13, 0, 0xf0, 0, 1}, AlertUnexpectedMessage},
		{"certificate request to a client", true, []byte{13, 0, 0xf0, 0, 1}, AlertUnexpectedMessage},
		{"long KeyUpdate", false, []byte{hsKeyUpdate, 0, 0xf0, 0, 1}, AlertDecodeError},
		{"long KeyUpdate to a client", true, []byte{hsKeyUpdate, 1, 0, 0}, AlertDecodeError},
		{"empty KeyUpdate", false, []byte{hsKeyUpdate, 0, 0, 0}, AlertDecodeError},
		{"KeyUpdate header cut", false, []byte{hsKeyUpdate, 0, 0}, 0},
		{"ticket to a client", true, []byte{hsNewSessionTicket, 1, 0, 0, 9, 9, 9}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w, r := pair(t, tls.TLS_AES_128_GCM_SHA256, ReaderOptions{Client: tc.client})
			rec, err := w.seal(nil, tc.msg, typeHandshake)
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.Decrypt(rec)
			if tc.code == 0 {
				if err != nil || !r.Pending() {
					t.Fatalf("err %v, pending %v: want the message kept", err, r.Pending())
				}
				return
			}
			code, ok := AlertToSend(err)
			if !ok || code != tc.code {
				t.Fatalf("err %v (pending %v), want local alert %d at once", err, r.Pending(), tc.code)
			}
			if r.Pending() {
				t.Fatal("the refused message is still kept")
			}
		})
	}
}

// TestKeyUpdateFlood: each KeyUpdate costs a key derivation and a new
// AES-GCM (about 2.5 KB of garbage, BenchmarkRebuild) for 27 bytes on the
// wire, so, as crypto/tls does (maxUselessRecords), more than
// maxUselessMessages post-handshake messages in a row with no application
// data between them end the connection with unexpected_message; application
// data starts the count again.
func TestKeyUpdateFlood(t *testing.T) {
	t.Parallel()
	for _, req := range []bool{false, true} {
		w, r := pair(t, tls.TLS_AES_128_GCM_SHA256, ReaderOptions{})
		var b []byte
		for range 3 {
			for range maxUselessMessages {
				b, _ = w.AppendKeyUpdate(b, req)
			}
			b = mustSeal(t, w, b, []byte("x")) // data between: allowed
		}
		if got, _, err := feed(r, b, nil); err != nil || string(got) != "xxx" {
			t.Fatalf("request %v: %d KeyUpdates between data: %q %v", req, maxUselessMessages, got, err)
		}
		b = b[:0]
		for range maxUselessMessages + 1 {
			b, _ = w.AppendKeyUpdate(b, req)
		}
		b = mustSeal(t, w, b, []byte("never"))
		got, _, err := feed(r, b, []int{27})
		if code, ok := AlertToSend(err); !ok || code != AlertUnexpectedMessage || len(got) != 0 {
			t.Fatalf("request %v: %d KeyUpdates in a row: %q %v, want unexpected_message", req, maxUselessMessages+1, got, err)
		}
	}
}

// TestPostHandshakeEdges pins what RFC 8446 says of records the peer may cut
// or combine after the handshake, each fed whole and at every split point:
// an alert is never fragmented nor coalesced (§5.1: decode_error for 0, 1 or
// 4 bytes), no other type inside a fragmented handshake message (§5.1), a
// zero-length application_data record is allowed (§5.4), and a KeyUpdate cut
// across records switches the key after its last byte.
func TestPostHandshakeEdges(t *testing.T) {
	t.Parallel()
	type step func(w *Writer, b []byte) []byte
	raw := func(content []byte, typ byte) step {
		return func(w *Writer, b []byte) []byte { b, _ = w.seal(b, content, typ); return b }
	}
	data := func(p string) step {
		return func(w *Writer, b []byte) []byte { b, _ = w.AppendSeal(b, []byte(p)); return b }
	}
	// A KeyUpdate in two records: the Writer's key moves after the second.
	cutUpdate := func(w *Writer, b []byte) []byte {
		b, _ = w.seal(b, []byte{hsKeyUpdate, 0}, typeHandshake)
		b, _ = w.seal(b, []byte{0, 1, 1}, typeHandshake)
		w.k.update()
		return b
	}
	tests := []struct {
		name  string
		steps []step
		want  string
		code  uint8 // 0: no error
		upd   bool
	}{
		{"empty alert", []step{data("a"), raw(nil, typeAlert)}, "a", AlertDecodeError, false},
		{"one-byte alert", []step{raw([]byte{1}, typeAlert)}, "", AlertDecodeError, false},
		{"two alerts coalesced", []step{raw([]byte{1, 0, 1, 0}, typeAlert)}, "", AlertDecodeError, false},
		{"alert inside a cut message", []step{raw([]byte{hsKeyUpdate, 0}, typeHandshake), raw([]byte{1, 0}, typeAlert)}, "", AlertUnexpectedMessage, false},
		{"empty data inside a cut message", []step{raw([]byte{hsKeyUpdate, 0}, typeHandshake), raw(nil, typeAppData)}, "", AlertUnexpectedMessage, false},
		{"empty data records", []step{data("a"), raw(nil, typeAppData), raw(nil, typeAppData), data("b")}, "ab", 0, false},
		{"cut KeyUpdate", []step{data("a"), cutUpdate, data("b")}, "ab", 0, true},
	}
	for _, tc := range tests {
		w, _ := pair(t, tls.TLS_AES_128_GCM_SHA256, ReaderOptions{})
		var b []byte
		for _, s := range tc.steps {
			b = s(w, b)
		}
		for cut := 0; cut <= len(b); cut++ {
			_, r := pair(t, tls.TLS_AES_128_GCM_SHA256, ReaderOptions{})
			got, upd, err := feed(r, append([]byte(nil), b...), []int{cut})
			code, _ := AlertToSend(err)
			if string(got) != tc.want || code != tc.code || (tc.code == 0) != (err == nil) || tc.code == 0 && upd != tc.upd {
				t.Fatalf("%s, cut at %d: %q upd %v err %v; want %q upd %v alert %d", tc.name, cut, got, upd, err, tc.want, tc.upd, tc.code)
			}
		}
	}
}
