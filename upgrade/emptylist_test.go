package upgrade

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestEmptyListElements: RFC 9110 §5.6.1 has a recipient parse and ignore a
// reasonable number of empty list elements, so "a, , b" is the list a, b in
// every list-valued field of the handshake, request and response alike; an
// element that is all whitespace is empty too. Past maxEmptyListElements the
// field is refused like any other malformed value, and a field with no
// element at all stays malformed (the lists are 1#element).
func TestEmptyListElements(t *testing.T) {
	t.Parallel()
	const line = "GET /chat HTTP/1.1"
	many := "Sec-WebSocket-Protocol: chat" + strings.Repeat(",", maxEmptyListElements+1)
	cases := []struct {
		name   string
		field  string
		status int
		err    error
		protos []string
		exts   []string
	}{
		{"extensions around", "Sec-WebSocket-Extensions: , permessage-deflate,", 101, nil, nil, []string{"permessage-deflate"}},
		{"extensions between", "Sec-WebSocket-Extensions: x-a; p=1 , ,\t, x-b", 101, nil, nil, []string{"x-a", "x-b"}},
		{"connection", "Connection: , Upgrade", 101, nil, nil, nil},
		{"connection trailing", "Connection: keep-alive, ,Upgrade ,", 101, nil, nil, nil},
		{"subprotocols", "Sec-WebSocket-Protocol: chat, , superchat", 101, nil, []string{"chat", "superchat"}, nil},
		{"subprotocols around", "Sec-WebSocket-Protocol: ,chat,", 101, nil, []string{"chat"}, nil},
		{"upgrade", "Upgrade: ,websocket", 101, nil, nil, nil},
		{"upgrade trailing", "Upgrade: websocket , ", 101, nil, nil, nil},
		{"subprotocols all empty", "Sec-WebSocket-Protocol: , ,", 400, ErrBadSubprotocols, nil, nil},
		{"extensions all empty", "Sec-WebSocket-Extensions: ,", 400, ErrBadExtensions, nil, nil},
		{"subprotocols, too many empty", many, 400, ErrBadSubprotocols, nil, nil},
		{"extensions, too many empty", "Sec-WebSocket-Extensions: " + strings.Repeat(", ", maxEmptyListElements+1) + "permessage-deflate", 400, ErrBadExtensions, nil, nil},
		{"connection, too many empty", "Connection: " + strings.Repeat(",", maxEmptyListElements+1) + "Upgrade", 400, ErrBadConnection, nil, nil},
		{"upgrade, too many empty", "Upgrade: " + strings.Repeat(",", maxEmptyListElements+1) + "websocket", 400, ErrBadUpgrade, nil, nil},
		{"empty element inside parameters stays bad", "Sec-WebSocket-Extensions: permessage-deflate;;x", 400, ErrBadExtensions, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := buildRequest(line, withField(validFields, tc.field)...)
			out, res := handshake(t, &Upgrader{}, s)
			if res.Status != tc.status || !errors.Is(res.Err, tc.err) || (res.Err == nil) != (tc.err == nil) {
				t.Fatalf("status %d err %v, want %d %v\n%s", res.Status, res.Err, tc.status, tc.err, out)
			}
			if tc.status != 101 {
				return
			}
			req := NewRequest()
			if _, err := ParseRequest([]byte(s), req, nil); err != nil {
				t.Fatal(err)
			}
			if err := req.check(); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range req.Extensions() {
				names = append(names, e.Name)
			}
			if got := req.Subprotocols(); len(got) != len(tc.protos) || len(got) > 0 && !reflect.DeepEqual(got, tc.protos) {
				t.Fatalf("subprotocols %q, want %q", got, tc.protos)
			}
			if !reflect.DeepEqual(names, tc.exts) {
				t.Fatalf("extensions %q, want %q", names, tc.exts)
			}
		})
	}
}

// TestEmptyListElementsResponse: the same on the client's side. RFC 6455
// §4.1 fails a response whose Upgrade value is not "websocket"; with the
// empty elements ignored (RFC 9110 §5.6.1) ", websocket" is that value, while
// a second protocol or too many empty elements still fail.
func TestEmptyListElementsResponse(t *testing.T) {
	t.Parallel()
	const ok = "HTTP/1.1 101 Switching Protocols"
	cases := []struct {
		name  string
		field string
		err   error
		exts  []ExtensionOffer
	}{
		{"upgrade leading", "Upgrade: ,websocket", nil, nil},
		{"upgrade around", "Upgrade: , WebSocket ,", nil, nil},
		{"upgrade all empty", "Upgrade: , ,", ErrBadUpgrade, nil},
		{"upgrade with another", "Upgrade: ,websocket, h2c", ErrBadUpgrade, nil},
		{"upgrade, too many empty", "Upgrade: " + strings.Repeat(",", maxEmptyListElements+1) + "websocket", ErrBadUpgrade, nil},
		{"connection", "Connection: , Upgrade,", nil, nil},
		{"extensions", "Sec-WebSocket-Extensions: , permessage-deflate; server_no_context_takeover ,", nil,
			[]ExtensionOffer{{Name: "permessage-deflate", Params: []ExtensionParam{{"server_no_context_takeover", ""}}}}},
		{"extensions, too many empty", "Sec-WebSocket-Extensions: permessage-deflate" + strings.Repeat(",", maxEmptyListElements+1), ErrBadExtensions, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := buildResponse(ok, withField(okFields, tc.field)...)
			var resp Response
			if n, err := ParseResponse([]byte(s), &resp, nil); err != nil || n != len(s) {
				t.Fatalf("ParseResponse: %d %v", n, err)
			}
			res, err := ValidateResponse(testClientRequest(), &resp)
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if !reflect.DeepEqual(res.Extensions, tc.exts) {
				t.Fatalf("extensions %+v, want %+v", res.Extensions, tc.exts)
			}
		})
	}
}

// TestEmptyListElementsCheap: a field of 10,000 commas is over the default
// line limit (431/414 as the limits say) and, under limits that let it in,
// refused after maxEmptyListElements of them.
func TestEmptyListElementsCheap(t *testing.T) {
	t.Parallel()
	commas := strings.Repeat(",", 10000)
	for _, f := range []string{"Sec-WebSocket-Protocol: ", "Sec-WebSocket-Extensions: ", "Connection: ", "Upgrade: "} {
		s := buildRequest("GET /chat HTTP/1.1", withField(validFields, f+commas+"x")...)
		if _, err := ParseRequest([]byte(s), NewRequest(), nil); !errors.Is(err, ErrLineTooLong) {
			t.Fatalf("%s10000 commas: %v, want ErrLineTooLong", f, err)
		}
		u := &Upgrader{Limits: Limits{MaxLineBytes: 1 << 20, MaxHeaderBytes: 1 << 20}}
		if _, res := handshake(t, u, s); res.Status != 400 {
			t.Fatalf("%s10000 commas under big limits: %d %v, want 400", f, res.Status, res.Err)
		}
	}
}
