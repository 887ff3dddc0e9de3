package upgrade

import (
	"crypto/tls"
	"testing"
)

// fakeTLS is a TLSConn whose state the test sets.
type fakeTLS struct{ state tls.ConnectionState }

func (f *fakeTLS) ConnectionState() tls.ConnectionState { return f.state }

// TLS reads the state lazily, keeps it across parsing, and a Clone (what a
// deferred decision's Handle holds) sees the same connection.
func TestRequestTLS(t *testing.T) {
	t.Parallel()
	raw := []byte("GET /ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	tests := []struct {
		name string
		conn *fakeTLS
	}{
		{"not TLS", nil},
		{"TLS", &fakeTLS{tls.ConnectionState{HandshakeComplete: true, ServerName: "example.com", Version: tls.VersionTLS13}}},
	}
	for _, tt := range tests {
		r := NewRequest()
		if tt.conn != nil {
			r.SetTLS(tt.conn)
		}
		if _, err := ParseRequest(raw, r, nil); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		for _, req := range []*Request{r, r.Clone()} {
			got := req.TLS()
			switch {
			case tt.conn == nil && got != nil:
				t.Errorf("%s: TLS() = %+v, want nil", tt.name, got)
			case tt.conn != nil && (got == nil || got.ServerName != "example.com" || got.Version != tls.VersionTLS13):
				t.Errorf("%s: TLS() = %+v", tt.name, got)
			}
		}
	}
}

// A hook may keep the *tls.ConnectionState it was given (say, to read the
// client certificate later): the engine's Requests serve one handshake after
// another, and the next connection's SetTLS must not rewrite what the earlier
// one's hook holds (another peer's identity under the first one's pointer).
func TestRequestTLSKeptStateStays(t *testing.T) {
	t.Parallel()
	raw := []byte("GET /ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	r := NewRequest()
	var kept []*tls.ConnectionState
	for _, name := range []string{"alice.example", "mallory.example"} {
		r.SetTLS(&fakeTLS{tls.ConnectionState{HandshakeComplete: true, ServerName: name}})
		if _, err := ParseRequest(raw, r, nil); err != nil {
			t.Fatal(err)
		}
		kept = append(kept, r.TLS())
	}
	if got := kept[0].ServerName; got != "alice.example" {
		t.Fatalf("the first handshake's state now says %q: the next SetTLS rewrote it", got)
	}
}
