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
