package upgrade

import (
	"net/netip"
	"strings"
	"testing"
)

// chromeRequest is a typical browser handshake: about 500 bytes, 12 fields.
const chromeRequest = "GET /chat?room=lobby HTTP/1.1\r\n" +
	"Host: example.com:8080\r\n" +
	"Connection: Upgrade\r\n" +
	"Pragma: no-cache\r\n" +
	"Cache-Control: no-cache\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36\r\n" +
	"Upgrade: websocket\r\n" +
	"Origin: http://example.com:8080\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
	"\r\n"

var testPeer = netip.MustParseAddrPort("192.0.2.10:50000")

// buildRequest joins a request line and "Name: value" fields into a header
// block; with validFields and withField it makes one fault at a time.
func buildRequest(requestLine string, fields ...string) string {
	var b strings.Builder
	b.WriteString(requestLine)
	b.WriteString("\r\n")
	for _, f := range fields {
		b.WriteString(f)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// validFields are the fields of a minimal valid request, in order.
var validFields = []string{
	"Host: server.example.com",
	"Upgrade: websocket",
	"Connection: Upgrade",
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
	"Sec-WebSocket-Version: 13",
}

// withField returns validFields with the field named like f replaced by f (or
// removed when f is "Name:-"), or f appended when absent.
func withField(fields []string, f string) []string {
	name, _, _ := strings.Cut(f, ":")
	out := make([]string, 0, len(fields)+1)
	done := false
	for _, g := range fields {
		gn, _, _ := strings.Cut(g, ":")
		if strings.EqualFold(gn, name) {
			if !done && !strings.HasSuffix(f, ":-") {
				out = append(out, f)
			}
			done = true
			continue
		}
		out = append(out, g)
	}
	if !done && !strings.HasSuffix(f, ":-") {
		out = append(out, f)
	}
	return out
}

// handshake parses s and runs u's handshake on it.
func handshake(t testing.TB, u *Upgrader, s string) (string, Result) {
	t.Helper()
	req := NewRequest()
	n, err := u.Parse([]byte(s), req)
	if err != nil {
		return string(AppendError(nil, err)), Result{Status: StatusOf(err), Err: err}
	}
	if n != len(s) {
		t.Fatalf("Parse consumed %d of %d bytes", n, len(s))
	}
	out, res := u.Handshake(req, testPeer, nil, nil)
	return string(out), res
}

// pmdNegotiator is a stand-in for the deflate package: it accepts the first
// permessage-deflate offer without parameters.
type pmdNegotiator struct{}

type pmdState struct{ clientBits bool }

var pmdWithBits, pmdPlain = &pmdState{true}, &pmdState{false}

func (pmdNegotiator) NegotiateExtensions(offers []ExtensionOffer, dst []byte) ([]byte, any, error) {
	for _, o := range offers {
		if o.Name != "permessage-deflate" {
			continue
		}
		dst = append(dst, "permessage-deflate"...)
		if _, ok := o.Param("client_max_window_bits"); ok {
			dst = append(dst, "; client_max_window_bits=15"...)
			return dst, pmdWithBits, nil
		}
		return dst, pmdPlain, nil
	}
	return dst, nil, nil
}
