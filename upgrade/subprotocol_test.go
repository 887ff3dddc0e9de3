package upgrade

import (
	"strings"
	"testing"
)

func TestSubprotocolSelection(t *testing.T) {
	t.Parallel()
	offer := "Sec-WebSocket-Protocol: V2.push, v1.push, mqtt"
	cases := []struct {
		name   string
		offer  string
		u      *Upgrader
		status int
		keep   string // Result.Subprotocol
		wire   string // Sec-WebSocket-Protocol in the 101, "" for absent
	}{
		{"no preference: none chosen", offer, &Upgrader{}, 101, "", ""},
		{"server preference wins over client order", offer, &Upgrader{Subprotocols: []string{"mqtt", "v1.push"}}, 101, "mqtt", "mqtt"},
		{"case-sensitive by default", offer, &Upgrader{Subprotocols: []string{"v2.push"}}, 101, "", ""},
		{"case-insensitive option echoes client spelling", offer, &Upgrader{Subprotocols: []string{"v2.push"}, SubprotocolsCaseInsensitive: true}, 101, "v2.push", "V2.push"},
		{"nothing offered", "", &Upgrader{Subprotocols: []string{"mqtt"}}, 101, "", ""},
		{"function picks an offer", offer, &Upgrader{SelectSubprotocol: func(r *Request) string { return r.Subprotocols()[1] }}, 101, "v1.push", "v1.push"},
		{"function picks none", offer, &Upgrader{Subprotocols: []string{"mqtt"}, SelectSubprotocol: func(*Request) string { return "" }}, 101, "", ""},
		{"function picks what was not offered", offer, &Upgrader{SelectSubprotocol: func(*Request) string { return "stomp" }}, 500, "", ""},
		{"verify hook choice overrides the list", offer, &Upgrader{Subprotocols: []string{"mqtt"},
			Verify: func(r *Request, d *Decision) { d.SetSubprotocol("v1.push") }}, 101, "v1.push", "v1.push"},
		{"verify hook chooses none", offer, &Upgrader{Subprotocols: []string{"mqtt"},
			Verify: func(r *Request, d *Decision) { d.SetSubprotocol("") }}, 101, "", ""},
		{"verify hook choice not offered", offer, &Upgrader{Verify: func(r *Request, d *Decision) { d.SetSubprotocol("stomp") }}, 500, "", ""},
		{"verify hook folded choice", offer, &Upgrader{SubprotocolsCaseInsensitive: true,
			Verify: func(r *Request, d *Decision) { d.SetSubprotocol("MQTT") }}, 101, "MQTT", "mqtt"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fields := validFields
			if tc.offer != "" {
				fields = append(fields[:len(fields):len(fields)], tc.offer)
			}
			out, res := handshake(t, tc.u, buildRequest("GET / HTTP/1.1", fields...))
			if res.Status != tc.status {
				t.Fatalf("status %d (%v), want %d\n%s", res.Status, res.Err, tc.status, out)
			}
			resp := readAnswer(t, out)
			if tc.status == 500 {
				if res.Err != ErrSubprotocolNotOffered || strings.Contains(out, "stomp") || resp.Header.Get("Sec-WebSocket-Protocol") != "" {
					t.Fatalf("bad refusal %v %q", res.Err, out)
				}
				return
			}
			if res.Subprotocol != tc.keep {
				t.Errorf("Result.Subprotocol = %q, want %q", res.Subprotocol, tc.keep)
			}
			if got := resp.Header.Values("Sec-WebSocket-Protocol"); tc.wire == "" && len(got) != 0 || tc.wire != "" && (len(got) != 1 || got[0] != tc.wire) {
				t.Errorf("101 Sec-WebSocket-Protocol = %q, want %q", got, tc.wire)
			}
		})
	}
}

// TestSubprotocolDoesNotAlias: a pick taken from the request must survive the
// buffer being reused.
func TestSubprotocolDoesNotAlias(t *testing.T) {
	t.Parallel()
	u := &Upgrader{SelectSubprotocol: func(r *Request) string { return r.Subprotocols()[0] }}
	buf := []byte(buildRequest("GET / HTTP/1.1", append(validFields, "Sec-WebSocket-Protocol: chat")...))
	req := NewRequest()
	if _, err := u.Parse(buf, req); err != nil {
		t.Fatal(err)
	}
	_, res := u.Handshake(req, testPeer, nil, nil)
	for i := range buf {
		buf[i] = '#'
	}
	if res.Subprotocol != "chat" {
		t.Fatalf("Subprotocol = %q after the buffer changed", res.Subprotocol)
	}
}
