package upgrade

import (
	"net/http"
	"reflect"
	"testing"
)

// TestRoundTrip runs the client's request through the server's scanner and
// decision and the server's answer through the client's scanner and checks,
// all through bytes.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		url     string
		mod     func(*ClientRequest)
		u       *Upgrader
		proto   string
		exts    []ExtensionOffer
		version int
	}{
		{"minimal", "ws://example.com/", nil, &Upgrader{}, "", nil, 13},
		{"same-origin browser-like", "ws://example.com:8080/chat?room=1", func(r *ClientRequest) { r.Origin = "http://example.com:8080" },
			&Upgrader{Path: "/chat"}, "", nil, 13},
		{"version 8 with origin", "wss://example.com/", func(r *ClientRequest) { r.Version = 8; r.Origin = "https://example.com" },
			&Upgrader{}, "", nil, 8},
		{"subprotocol by preference", "ws://example.com/", func(r *ClientRequest) { r.Subprotocols = []string{"v1", "v2"} },
			&Upgrader{Subprotocols: []string{"v2", "v1"}}, "v2", nil, 13},
		{"extension negotiated", "ws://example.com/", func(r *ClientRequest) {
			r.Extensions = []ExtensionOffer{{Name: "permessage-deflate", Params: []ExtensionParam{{Name: "client_max_window_bits"}}}}
		}, &Upgrader{Extensions: pmdNegotiator{}}, "",
			[]ExtensionOffer{{Name: "permessage-deflate", Params: []ExtensionParam{{"client_max_window_bits", "15"}}}}, 13},
		{"basic auth checked by the verify hook", "ws://ann:secret@example.com/", nil, &Upgrader{Verify: func(r *Request, d *Decision) {
			if r.Header("Authorization") != "Basic YW5uOnNlY3JldA==" {
				d.Reject(401, "who are you")
			}
		}}, "", nil, 13},
		{"extra header and cookie", "ws://example.com/", func(r *ClientRequest) { r.Header = http.Header{"Cookie": {"sid=42"}} },
			&Upgrader{Verify: func(r *Request, d *Decision) {
				if v, _ := r.Cookie("sid"); v != "42" {
					d.Reject(401, "")
				}
			}}, "", nil, 13},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			creq, err := NewClientRequest(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			if tc.mod != nil {
				tc.mod(creq)
			}
			wire, err := creq.AppendTo(nil)
			if err != nil {
				t.Fatal(err)
			}
			req := NewRequest()
			n, err := tc.u.Parse(wire, req)
			if err != nil || n != len(wire) {
				t.Fatalf("server Parse: %d %v", n, err)
			}
			answer, sres := tc.u.Handshake(req, testPeer, nil, nil)
			if !sres.Accepted() {
				t.Fatalf("server refused: %v\n%s", sres.Err, answer)
			}
			answer = append(answer, 0x82, 0x00) // a first server frame in the same read
			var resp Response
			m, err := ParseResponse(answer, &resp, nil)
			if err != nil || m != len(answer)-2 {
				t.Fatalf("client ParseResponse: %d %v", m, err)
			}
			cres, err := ValidateResponse(creq, &resp)
			if err != nil {
				t.Fatal(err)
			}
			if cres.Subprotocol != tc.proto || sres.Subprotocol != tc.proto || !reflect.DeepEqual(cres.Extensions, tc.exts) || sres.Version != tc.version {
				t.Fatalf("client %+v server %+v", cres, sres)
			}
		})
	}
}

// TestRoundTripRejected: a server rejection reaches the client as a
// *HandshakeError with the reason.
func TestRoundTripRejected(t *testing.T) {
	t.Parallel()
	creq, _ := NewClientRequest("ws://example.com/")
	wire, _ := creq.AppendTo(nil)
	u := &Upgrader{Verify: func(r *Request, d *Decision) {
		d.Reject(429, "too many")
		_ = d.Header().Add("Retry-After", "30")
	}}
	req := NewRequest()
	if _, err := u.Parse(wire, req); err != nil {
		t.Fatal(err)
	}
	answer, _ := u.Handshake(req, testPeer, nil, nil)
	var resp Response
	n, err := ParseResponse(answer, &resp, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ValidateResponse(creq, &resp)
	he, ok := err.(*HandshakeError)
	if !ok || he.Status != 429 || he.Reason != "too many" || he.Header.Get("Retry-After") != "30" {
		t.Fatalf("%v", err)
	}
	if err := he.ReadBody(bytesReader(answer[n:]), 0); err != nil || string(he.Body) != "too many\n" {
		t.Fatalf("body %q %v", he.Body, err)
	}
}
