package interop

import (
	"strconv"
	"strings"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// The bad-peer table: one row per rule, each with the exact answer weir owes. Rows
// of the three tables run twice, with the input written at once and dripped one
// byte at a time (badpeer_test.go); the resource cases are in badpeer_test.go.
// Add a row to extend the suite.

// handshakeCase: a request weir's server must refuse with status (and then hang
// up without ever calling OnOpen). The server runs badUpgrader.
type handshakeCase struct {
	name, rule string
	req        hreq
	status     int
	header     [2]string // a response field that must contain a value, if set
}

// frameCase: input after a good handshake that weir's server must answer with a
// close frame carrying code, then hang up; OnClose must report code and err.
type frameCase struct {
	name, rule string
	cfg        engine.Config
	input      [][]byte // written one after another, 5 ms apart
	code       frame.StatusCode
	err        error
}

// clientCase: a bad server for weir's client. Either Dial fails (dialErr with
// errors.Is, or a *upgrade.HandshakeError with status), or it succeeds, the
// server sends after, and weir must close with code and report code and err.
type clientCase struct {
	name, rule string
	respond    func(key string) string // the answer to the opening handshake
	after      [][]byte                // server frames after a 101
	dialErr    error
	status     int
	code       frame.StatusCode
	err        error
}

// badUpgrader: only /ws is served, the origin must be the host's, a request with
// X-Deny is refused by the verify hook.
func badUpgrader() *upgrade.Upgrader {
	return &upgrade.Upgrader{
		Path:         "/ws",
		Subprotocols: []string{"chat"},
		Verify: func(r *upgrade.Request, d *upgrade.Decision) {
			if _, deny := r.LookupHeader("X-Deny"); deny {
				d.Reject(403, "denied by verify")
			}
		},
	}
}

var handshakeCases = []handshakeCase{
	{name: "POST instead of GET", rule: "RFC 6455 §4.1 (1): method GET", req: stdReq().withLine("POST /ws HTTP/1.1"), status: 405, header: [2]string{"Allow", "GET"}},
	{name: "HEAD instead of GET", rule: "§4.1 (1)", req: stdReq().withLine("HEAD /ws HTTP/1.1"), status: 405},
	{name: "HTTP/1.0", rule: "§4.1 (1): HTTP/1.1 or higher", req: stdReq().withLine("GET /ws HTTP/1.0"), status: 400},
	{name: "no Host", rule: "§4.1 (4)", req: stdReq().del("Host"), status: 400},
	{name: "a body (Content-Length)", rule: "§4.1: a GET with no body", req: stdReq().set("Content-Length", "5").withBody("hello"), status: 400},
	{name: "a body (chunked)", rule: "§4.1", req: stdReq().set("Transfer-Encoding", "chunked").withBody("5\r\nhello\r\n0\r\n\r\n"), status: 400},
	{name: "no Upgrade", rule: "RFC 7231 §6.5.15: no Upgrade at all: 426 naming websocket", req: stdReq().del("Upgrade"), status: 426, header: [2]string{"Upgrade", "websocket"}},
	{name: "plain GET", rule: "RFC 7231 §6.5.15 (ws: non-upgrade requests get 426)", req: stdReq().del("Upgrade").del("Connection").del("Sec-WebSocket-Key").del("Sec-WebSocket-Version"),
		status: 426, header: [2]string{"Sec-WebSocket-Version", "13"}},
	{name: "Upgrade: h2c", rule: "§4.2.1 (3)", req: stdReq().set("Upgrade", "h2c"), status: 400},
	{name: "Connection without upgrade", rule: "§4.2.1 (4)", req: stdReq().set("Connection", "keep-alive"), status: 400},
	{name: "no Sec-WebSocket-Key", rule: "§4.2.1 (5)", req: stdReq().del("Sec-WebSocket-Key"), status: 400},
	{name: "key not 16 bytes", rule: "§4.2.1 (5): base64 of 16 bytes", req: stdReq().set("Sec-WebSocket-Key", "AAAAAAAA"), status: 400},
	{name: "key not base64", rule: "§4.2.1 (5)", req: stdReq().set("Sec-WebSocket-Key", "!!!!!!!!!!!!!!!!!!!!!!=="), status: 400},
	{name: "two keys", rule: "§4.2.1 (5): one key", req: stdReq().add("Sec-WebSocket-Key: " + rawKey), status: 400},
	{name: "version 12", rule: "§4.2.2 (4): 426 with the versions served", req: stdReq().set("Sec-WebSocket-Version", "12"), status: 426, header: [2]string{"Sec-WebSocket-Version", "13"}},
	{name: "no version", rule: "§4.2.1 (6)", req: stdReq().del("Sec-WebSocket-Version"), status: 426, header: [2]string{"Sec-WebSocket-Version", "13"}},
	{name: "malformed Sec-WebSocket-Protocol", rule: "§4.1: protocol tokens", req: stdReq().set("Sec-WebSocket-Protocol", "chat, ,bad token"), status: 400},
	{name: "malformed Sec-WebSocket-Extensions", rule: "RFC 7692 §5 / RFC 6455 §9.1 grammar", req: stdReq().set("Sec-WebSocket-Extensions", "permessage-deflate; =1"), status: 400},
	{name: "path not served", rule: "Upgrader.Path: 404", req: stdReq().withLine("GET /other HTTP/1.1"), status: 404},
	{name: "foreign origin", rule: "§10.2: origin policy, 403", req: stdReq().set("Origin", "http://evil.example"), status: 403},
	{name: "verify hook rejects", rule: "Decision.Reject(403, reason)", req: stdReq().set("X-Deny", "1"), status: 403, header: [2]string{"X-WebSocket-Reject-Reason", "denied by verify"}},
	{name: "request line over 4 KiB", rule: "Limits.MaxLineBytes: 414", req: stdReq().withLine("GET /ws?" + strings.Repeat("a", 5000) + " HTTP/1.1"), status: 414},
	{name: "header line over 4 KiB", rule: "Limits.MaxLineBytes: 431", req: stdReq().set("X-Big", strings.Repeat("b", 5000)), status: 431},
	{name: "header block over 8 KiB", rule: "Limits.MaxHeaderBytes: 431", req: manyFields(40, 250), status: 431},
	{name: "over 64 header fields", rule: "Limits.MaxHeaders: 431", req: manyFields(70, 4), status: 431},
	{name: "field without colon", rule: "RFC 9112 §5: field syntax", req: stdReq().add("NoColonHere"), status: 400},
	{name: "obsolete line folding", rule: "RFC 9112 §5.2: obs-fold rejected", req: stdReq().add(" folded continuation"), status: 400},
	{name: "bare LF line ends", rule: "RFC 9112 §2.2: CRLF", req: hreq{line: "GET /ws HTTP/1.1\nHost: x\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Key: " + rawKey + "\nSec-WebSocket-Version: 13\n"}, status: 400},
	{name: "TLS ClientHello on a plain port", rule: "not HTTP at all", req: hreq{line: "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"}, status: 400},
}

// manyFields is a good request with n extra fields of size bytes each.
func manyFields(n, size int) hreq {
	r := stdReq()
	for i := range n {
		r = r.add("X-Pad-" + strconv.Itoa(i) + ": " + strings.Repeat("v", size))
	}
	return r
}

var frameCases = []frameCase{
	{name: "unmasked client frame", rule: "§5.1: clients mask", input: [][]byte{wireFrame(true, frame.OpText, 0, []byte("hi"), false)}, code: 1002, err: engine.ErrUnmaskedFrame},
	{name: "RSV1 without an extension", rule: "§5.2", input: [][]byte{wireFrame(true, frame.OpText, frame.Rsv1, []byte("hi"), true)}, code: 1002, err: engine.ErrUnexpectedRSV},
	{name: "RSV2", rule: "§5.2", input: [][]byte{wireFrame(true, frame.OpBinary, frame.Rsv2, nil, true)}, code: 1002, err: engine.ErrUnexpectedRSV},
	{name: "RSV3", rule: "§5.2", input: [][]byte{wireFrame(true, frame.OpBinary, frame.Rsv3, nil, true)}, code: 1002, err: engine.ErrUnexpectedRSV},
	{name: "reserved data opcode 0x3", rule: "§5.2", input: [][]byte{cf(true, 3, nil)}, code: 1002, err: frame.ErrReservedOpcode},
	{name: "reserved control opcode 0xB", rule: "§5.2", input: [][]byte{cf(true, 0xB, nil)}, code: 1002, err: frame.ErrReservedOpcode},
	{name: "fragmented ping", rule: "§5.5: control frames are not fragmented", input: [][]byte{cf(false, frame.OpPing, nil)}, code: 1002, err: frame.ErrFragmentedControl},
	{name: "ping of 126 bytes", rule: "§5.5: control payload ≤ 125", input: [][]byte{cf(true, frame.OpPing, make([]byte, 126))}, code: 1002, err: frame.ErrControlTooLong},
	{name: "continuation with no message", rule: "§5.4", input: [][]byte{cf(true, frame.OpContinuation, []byte("x"))}, code: 1002, err: engine.ErrUnexpectedContinuation},
	{name: "new message inside a fragmented one", rule: "§5.4", input: [][]byte{cf(false, frame.OpText, []byte("a")), cf(true, frame.OpText, []byte("b"))}, code: 1002, err: engine.ErrExpectedContinuation},
	{name: "64-bit length with the top bit set", rule: "§5.2", input: [][]byte{{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}}, code: 1002, err: frame.ErrLengthOverflow},
	{name: "invalid UTF-8 text", rule: "§8.1: 1007", input: [][]byte{cf(true, frame.OpText, []byte{'a', 0xff})}, code: 1007, err: engine.ErrTextNotUTF8},
	{name: "overlong UTF-8 (C0 80)", rule: "§8.1", input: [][]byte{cf(true, frame.OpText, []byte{0xc0, 0x80})}, code: 1007, err: engine.ErrTextNotUTF8},
	{name: "UTF-16 surrogate (ED A0 80)", rule: "§8.1", input: [][]byte{cf(true, frame.OpText, []byte{0xed, 0xa0, 0x80})}, code: 1007, err: engine.ErrTextNotUTF8},
	{name: "code point over U+10FFFF", rule: "§8.1", input: [][]byte{cf(true, frame.OpText, []byte{0xf4, 0x90, 0x80, 0x80})}, code: 1007, err: engine.ErrTextNotUTF8},
	{name: "invalid UTF-8 across fragments", rule: "§8.1", input: [][]byte{cf(false, frame.OpText, []byte{0xce}), cf(true, frame.OpContinuation, []byte{0x41})}, code: 1007, err: engine.ErrTextNotUTF8},
	{name: "UTF-8 cut at the message end", rule: "§8.1", input: [][]byte{cf(false, frame.OpText, []byte("ok")), cf(true, frame.OpContinuation, []byte{0xe2, 0x82})}, code: 1007, err: engine.ErrTextNotUTF8},
	{name: "close payload of 1 byte", rule: "§5.5.1", input: [][]byte{cf(true, frame.OpClose, []byte{3})}, code: 1002, err: frame.ErrInvalidClosePayload},
	{name: "close code 999", rule: "§7.4: codes below 1000 unused", input: [][]byte{cf(true, frame.OpClose, closePayload(999, ""))}, code: 1002, err: frame.ErrInvalidCloseCode},
	{name: "close code 1004", rule: "§7.4.1: reserved", input: [][]byte{cf(true, frame.OpClose, closePayload(1004, ""))}, code: 1002, err: frame.ErrInvalidCloseCode},
	{name: "close code 1005 on the wire", rule: "§7.4.1: never sent", input: [][]byte{cf(true, frame.OpClose, closePayload(1005, ""))}, code: 1002, err: frame.ErrInvalidCloseCode},
	{name: "close code 1006 on the wire", rule: "§7.4.1: never sent", input: [][]byte{cf(true, frame.OpClose, closePayload(1006, ""))}, code: 1002, err: frame.ErrInvalidCloseCode},
	{name: "close code 1015 on the wire", rule: "§7.4.1: never sent", input: [][]byte{cf(true, frame.OpClose, closePayload(1015, ""))}, code: 1002, err: frame.ErrInvalidCloseCode},
	{name: "close code 2999", rule: "§7.4.2: reserved for the RFC", input: [][]byte{cf(true, frame.OpClose, closePayload(2999, ""))}, code: 1002, err: frame.ErrInvalidCloseCode},
	{name: "close code 5000", rule: "§7.4.2: undefined", input: [][]byte{cf(true, frame.OpClose, closePayload(5000, ""))}, code: 1002, err: frame.ErrInvalidCloseCode},
	{name: "close reason not UTF-8", rule: "§5.5.1 / §8.1", input: [][]byte{cf(true, frame.OpClose, closePayload(1000, "\xff"))}, code: 1007, err: frame.ErrInvalidUTF8},
	{name: "frame over MaxFrameSize (header only)", rule: "Config.MaxFrameSize: 1009 from the header", cfg: engine.Config{MaxFrameSize: 1000},
		input: [][]byte{cf(true, frame.OpBinary, make([]byte, 1001))[:8]}, code: 1009, err: engine.ErrFrameTooBig},
	{name: "message over MaxMessageSize across fragments", rule: "Config.MaxMessageSize: 1009", cfg: engine.Config{MaxMessageSize: 1000},
		input: [][]byte{cf(false, frame.OpBinary, make([]byte, 600)), cf(true, frame.OpContinuation, make([]byte, 600))[:8]}, code: 1009, err: engine.ErrMessageTooBig},
	{name: "too many fragments (empty ones count)", rule: "Config.MaxFragments: 1008", cfg: engine.Config{MaxFragments: 3},
		input: [][]byte{cf(false, frame.OpBinary, nil), cf(false, frame.OpContinuation, nil), cf(false, frame.OpContinuation, nil), cf(false, frame.OpContinuation, nil)}, code: 1008, err: engine.ErrTooManyFragments},
	{name: "1 GiB frame header", rule: "Config.MaxFrameSize default 16 MiB: 1009 before any payload", input: [][]byte{{0x82, 0xff, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4}}, code: 1009, err: engine.ErrFrameTooBig},
}

var clientCases = []clientCase{
	{name: "200 instead of 101", rule: "RFC 6455 §4.1: a non-101 answer fails", respond: func(string) string {
		return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	}, status: 200},
	{name: "403 with a reason", rule: "§4.1: HandshakeError keeps status and reason", respond: func(string) string {
		return "HTTP/1.1 403 Forbidden\r\nX-WebSocket-Reject-Reason: go away\r\nContent-Length: 7\r\n\r\ngo away"
	}, status: 403},
	{name: "wrong Sec-WebSocket-Accept", rule: "§4.1 (4)", respond: func(string) string {
		return accept101("AQIDBAUGBwgJCgsMDQ4PEA==")
	}, dialErr: upgrade.ErrBadAccept},
	{name: "101 without Upgrade", rule: "§4.1 (2)", respond: func(key string) string {
		return strings.Replace(accept101(key), "Upgrade: websocket\r\n", "", 1)
	}, dialErr: upgrade.ErrBadUpgrade},
	{name: "101 without Connection", rule: "§4.1 (3)", respond: func(key string) string {
		return strings.Replace(accept101(key), "Connection: Upgrade\r\n", "", 1)
	}, dialErr: upgrade.ErrBadConnection},
	{name: "subprotocol not offered", rule: "§4.1 (6)", respond: func(key string) string {
		return accept101(key, "Sec-WebSocket-Protocol: other")
	}, dialErr: upgrade.ErrUnexpectedSubprotocol},
	{name: "extension not offered", rule: "§4.1 (5)", respond: func(key string) string {
		return accept101(key, "Sec-WebSocket-Extensions: permessage-deflate")
	}, dialErr: upgrade.ErrUnexpectedExtension},
	{name: "not HTTP", rule: "§4.1", respond: func(string) string { return "SSH-2.0-OpenSSH_9.2\r\n\r\n" }, dialErr: upgrade.ErrMalformedResponse},
	{name: "response header over 8 KiB", rule: "Limits.MaxHeaderBytes", respond: func(key string) string {
		var pad []string
		for i := range 50 {
			pad = append(pad, "X-Pad-"+strconv.Itoa(i)+": "+strings.Repeat("v", 200))
		}
		return accept101(key, pad...)
	}, dialErr: upgrade.ErrResponseHeaderTooLarge},
	{name: "masked server frame", rule: "§5.1: servers do not mask", respond: accept101Plain,
		after: [][]byte{wireFrame(true, frame.OpText, 0, []byte("hi"), true)}, code: 1002, err: engine.ErrMaskedFrame},
	{name: "RSV1 from the server", rule: "§5.2", respond: accept101Plain,
		after: [][]byte{wireFrame(true, frame.OpText, frame.Rsv1, []byte("hi"), false)}, code: 1002, err: engine.ErrUnexpectedRSV},
	{name: "reserved opcode from the server", rule: "§5.2", respond: accept101Plain,
		after: [][]byte{sf(true, 0x7, nil)}, code: 1002, err: frame.ErrReservedOpcode},
	{name: "invalid UTF-8 from the server", rule: "§8.1", respond: accept101Plain,
		after: [][]byte{sf(true, frame.OpText, []byte{0xff})}, code: 1007, err: engine.ErrTextNotUTF8},
	{name: "close code 1005 from the server", rule: "§7.4.1", respond: accept101Plain,
		after: [][]byte{sf(true, frame.OpClose, closePayload(1005, ""))}, code: 1002, err: frame.ErrInvalidCloseCode},
	{name: "1 GiB frame header from the server", rule: "Config.MaxFrameSize", respond: accept101Plain,
		after: [][]byte{{0x82, 0x7f, 0, 0, 0, 0, 0x40, 0, 0, 0}}, code: 1009, err: engine.ErrFrameTooBig},
}

func accept101Plain(key string) string { return accept101(key) }
