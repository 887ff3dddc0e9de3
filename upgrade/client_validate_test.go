package upgrade

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func testClientRequest() *ClientRequest {
	k, _ := ParseKey("dGhlIHNhbXBsZSBub25jZQ==")
	return &ClientRequest{
		Host: "server.example.com", Resource: "/chat", Key: k,
		Subprotocols: []string{"chat", "superchat"},
		Extensions:   []ExtensionOffer{{Name: "permessage-deflate"}},
	}
}

func buildResponse(status string, fields ...string) string {
	return buildRequest(status, fields...)
}

var okFields = []string{
	"Upgrade: websocket",
	"Connection: Upgrade",
	"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
}

func TestValidateResponse(t *testing.T) {
	t.Parallel()
	const ok = "HTTP/1.1 101 Switching Protocols"
	cases := []struct {
		name  string
		resp  string
		err   error
		proto string
		exts  []ExtensionOffer
	}{
		{"plain", buildResponse(ok, okFields...), nil, "", nil},
		{"no reason phrase", buildResponse("HTTP/1.1 101", okFields...), nil, "", nil},
		{"subprotocol", buildResponse(ok, append(okFields, "Sec-WebSocket-Protocol: superchat")...), nil, "superchat", nil},
		{"extension", buildResponse(ok, append(okFields, "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover")...), nil, "",
			[]ExtensionOffer{{Name: "permessage-deflate", Params: []ExtensionParam{{"server_no_context_takeover", ""}}}}},
		{"list tokens", buildResponse(ok, withField(withField(okFields, "Upgrade: WebSocket"), "Connection: keep-alive, upgrade")...), nil, "", nil},
		{"HTTP/1.0", buildResponse("HTTP/1.0 101 Switching Protocols", okFields...), ErrMalformedResponse, "", nil},
		{"no Upgrade", buildResponse(ok, withField(okFields, "Upgrade:-")...), ErrBadUpgrade, "", nil},
		// RFC 6455 §4.1: the Upgrade value is "websocket" (any case), no other.
		{"Upgrade h2c, websocket", buildResponse(ok, withField(okFields, "Upgrade: h2c, websocket")...), ErrBadUpgrade, "", nil},
		{"Upgrade websocket, h2c", buildResponse(ok, withField(okFields, "Upgrade: websocket, h2c")...), ErrBadUpgrade, "", nil},
		{"Upgrade twice", buildResponse(ok, append(okFields, "Upgrade: h2c")...), ErrBadUpgrade, "", nil},
		{"Upgrade websocket/13", buildResponse(ok, withField(okFields, "Upgrade: websocket/13")...), ErrBadUpgrade, "", nil},
		{"no Connection", buildResponse(ok, withField(okFields, "Connection: close")...), ErrBadConnection, "", nil},
		{"wrong accept", buildResponse(ok, withField(okFields, "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=")...), ErrBadAccept, "", nil},
		{"missing accept", buildResponse(ok, withField(okFields, "Sec-WebSocket-Accept:-")...), ErrBadAccept, "", nil},
		{"accept twice", buildResponse(ok, append(okFields, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")...), ErrBadAccept, "", nil},
		{"subprotocol not offered", buildResponse(ok, append(okFields, "Sec-WebSocket-Protocol: mqtt")...), ErrUnexpectedSubprotocol, "", nil},
		{"subprotocol case differs", buildResponse(ok, append(okFields, "Sec-WebSocket-Protocol: Chat")...), ErrUnexpectedSubprotocol, "", nil},
		{"subprotocol list", buildResponse(ok, append(okFields, "Sec-WebSocket-Protocol: chat, superchat")...), ErrUnexpectedSubprotocol, "", nil},
		{"two subprotocol lines", buildResponse(ok, append(okFields, "Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Protocol: chat")...), ErrUnexpectedSubprotocol, "", nil},
		{"extension not offered", buildResponse(ok, append(okFields, "Sec-WebSocket-Extensions: x-webkit-deflate-frame")...), ErrUnexpectedExtension, "", nil},
		{"extension malformed", buildResponse(ok, append(okFields, "Sec-WebSocket-Extensions: permessage-deflate;")...), ErrBadExtensions, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var resp Response
			n, err := ParseResponse([]byte(tc.resp), &resp, nil)
			if err != nil || n != len(tc.resp) {
				t.Fatalf("ParseResponse: %d %v", n, err)
			}
			res, err := ValidateResponse(testClientRequest(), &resp)
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if res.Subprotocol != tc.proto || !reflect.DeepEqual(res.Extensions, tc.exts) {
				t.Fatalf("result %+v", res)
			}
		})
	}
}

// TestUnexpectedResponse: a non-101 answer becomes a *HandshakeError with the
// status, headers and a bounded body.
func TestUnexpectedResponse(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("b", 10000)
	cases := []struct {
		name     string
		raw      string
		limit    int
		status   int
		reason   string
		wantBody string
	}{
		{"length", "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: 5\r\n\r\nhello" + "ignored", 0, 401, "Unauthorized", "hello"},
		{"reject reason header", "HTTP/1.1 403 Forbidden\r\nX-WebSocket-Reject-Reason: banned\r\nContent-Length: 7\r\n\r\nbanned\n", 0, 403, "banned", "banned\n"},
		{"chunked", "HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", 0, 500, "Oops", "abcde"},
		{"until EOF, capped", "HTTP/1.1 502 Bad Gateway\r\n\r\n" + body, 0, 502, "Bad Gateway", body[:DefaultErrorBodyLimit]},
		{"length over the cap", "HTTP/1.1 400 Bad Request\r\nContent-Length: 10000\r\n\r\n" + body, 100, 400, "Bad Request", body[:100]},
		{"no body for 304", "HTTP/1.1 304 Not Modified\r\n\r\nxx", 0, 304, "Not Modified", ""},
		{"426 with versions", "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13, 8\r\nContent-Length: 0\r\n\r\n", 0, 426, "Upgrade Required", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			buf := []byte(tc.raw)
			var resp Response
			n, err := ParseResponse(buf, &resp, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ValidateResponse(testClientRequest(), &resp)
			var he *HandshakeError
			if !errors.As(err, &he) {
				t.Fatalf("err %v is not a *HandshakeError", err)
			}
			if he.Status != tc.status || he.Reason != tc.reason || StatusOf(err) != tc.status {
				t.Fatalf("%+v", he)
			}
			if err := he.ReadBody(io.MultiReader(bytes.NewReader(buf[n:]), strings.NewReader("")), tc.limit); err != nil {
				t.Fatal(err)
			}
			if string(he.Body) != tc.wantBody {
				t.Fatalf("body %d bytes %.20q, want %d", len(he.Body), he.Body, len(tc.wantBody))
			}
			// The error owns its data: scribbling over the buffer changes nothing.
			for i := range buf {
				buf[i] = 0
			}
			if he.Reason != tc.reason || (tc.status == 426 && he.Header.Get("Sec-WebSocket-Version") != "13, 8") {
				t.Fatalf("error aliases the buffer: %+v", he)
			}
			if !strings.Contains(he.Error(), http.StatusText(tc.status)) && http.StatusText(tc.status) != "" {
				t.Fatalf("Error() = %q", he.Error())
			}
		})
	}
}

func TestParseResponseIncremental(t *testing.T) {
	t.Parallel()
	full := buildResponse("HTTP/1.1 101 Switching Protocols", okFields...) + "\x81\x02hi"
	var resp Response
	end := len(full) - 4
	for i := 0; i < end; i++ {
		if _, err := ParseResponse([]byte(full[:i]), &resp, nil); err != ErrNeedMore {
			t.Fatalf("prefix %d: %v", i, err)
		}
	}
	if n, err := ParseResponse([]byte(full), &resp, nil); err != nil || n != end || resp.StatusCode() != 101 || resp.Reason() != "Switching Protocols" {
		t.Fatalf("%d %v", n, err)
	}
	if major, minor := resp.Proto(); major != 1 || minor != 1 || resp.Header("upgrade") != "websocket" || len(resp.Raw()) != end {
		t.Fatal("view")
	}
	bad := []struct {
		in  string
		err error
	}{
		{"HTTP/1.1 1O1 x\r\n\r\n", ErrMalformedResponse},
		{"HTTP/1.1  101 x\r\n\r\n", ErrMalformedResponse},
		{"HTTP/1.1 1011\r\n\r\n", ErrMalformedResponse},
		{"HTTP/1.1 101 x\x01\r\n\r\n", ErrMalformedResponse},
		{"HTTP/1.1\r\n\r\n", ErrMalformedResponse},
		{"HTTP/1.1 101 x\nUpgrade: websocket\r\n\r\n", ErrMalformedResponse},
		{"SSH-2.0-OpenSSH", ErrMalformedResponse},
		{"HTTP/1.1 101 x\r\nX: " + strings.Repeat("a", 9000), ErrResponseHeaderTooLarge},
	}
	for _, b := range bad {
		if _, err := ParseResponse([]byte(b.in), &resp, nil); err != b.err {
			t.Errorf("%.30q: %v, want %v", b.in, err, b.err)
		}
	}
	if _, err := ValidateResponse(testClientRequest(), &resp); err != ErrMalformedResponse {
		t.Errorf("validate after a failed parse: %v", err)
	}
}

// ValidateResponse may be called again on the same Response (a check, then
// the dial's own): the accepted extensions must not pile up, which turned
// one permessage-deflate into two, and so into deflate's "answered twice".
func TestValidateResponseTwice(t *testing.T) {
	t.Parallel()
	raw := buildResponse("HTTP/1.1 101 Switching Protocols", append(okFields,
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10")...)
	var resp Response
	if _, err := ParseResponse([]byte(raw), &resp, nil); err != nil {
		t.Fatal(err)
	}
	req := testClientRequest()
	first, err := ValidateResponse(req, &resp)
	if err != nil {
		t.Fatal(err)
	}
	want := len(first.Extensions)
	second, err := ValidateResponse(req, &resp)
	if err != nil || len(second.Extensions) != want || want != 1 {
		t.Fatalf("second call: %v, %d extensions, want %d", err, len(second.Extensions), want)
	}
}
