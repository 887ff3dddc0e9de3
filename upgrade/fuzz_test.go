package upgrade

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"path"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// The reference checks below are written independently of the package, on top
// of net/http, net/textproto, net/url and regexp, so a fuzz target can tell
// whether something the package accepted really was valid.

var (
	refToken  = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$")
	refParam  = regexp.MustCompile(`^([!#$%&'*+\-.^_` + "`" + `|~0-9A-Za-z]+)(=(.*))?$`)
	refQuoted = regexp.MustCompile(`^"((?:[^"\\]|\\.)*)"$`)
)

func refTrim(s string) string { return strings.Trim(s, " \t") }

func refHasToken(values []string, tok string) bool {
	for _, v := range values {
		for _, e := range strings.Split(v, ",") {
			if strings.EqualFold(refTrim(e), tok) {
				return true
			}
		}
	}
	return false
}

// refList splits list headers into trimmed elements.
//
// Empty elements are left out (RFC 9110 §5.6.1), but each value must hold one
// non-empty element at least (the handshake's lists are 1#element): a value
// without one comes out as a single "" that no token check passes.
func refList(values []string) []string {
	var out []string
	for _, v := range values {
		n := len(out)
		for _, e := range strings.Split(v, ",") {
			if e = refTrim(e); e != "" {
				out = append(out, e)
			}
		}
		if len(out) == n {
			out = append(out, "")
		}
	}
	return out
}

// refExtensions validates Sec-WebSocket-Extensions values (RFC 6455 §9.1) and
// returns the extension names.
func refExtensions(values []string) ([]string, error) {
	var names []string
	for _, elem := range refList(values) {
		parts := strings.Split(elem, ";")
		name := refTrim(parts[0])
		if !refToken.MatchString(name) {
			return nil, fmt.Errorf("extension name %q", name)
		}
		names = append(names, name)
		for _, p := range parts[1:] {
			m := refParam.FindStringSubmatch(refTrim(p))
			if m == nil {
				return nil, fmt.Errorf("param %q", p)
			}
			if m[2] == "" {
				continue
			}
			v := m[3]
			if q := refQuoted.FindStringSubmatch(v); q != nil {
				v = regexp.MustCompile(`\\(.)`).ReplaceAllString(q[1], "$1")
			}
			if !refToken.MatchString(v) {
				return nil, fmt.Errorf("param value %q", m[3])
			}
		}
	}
	return names, nil
}

func refAccept(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

func refDefaultPort(scheme string) string {
	switch strings.ToLower(scheme) {
	case "http", "ws":
		return "80"
	case "https", "wss":
		return "443"
	}
	return ""
}

// refOriginAllowed is the fuzz upgrader's origin policy: no origin, the same
// host (default ports filled in), or a host matching *.example.org.
func refOriginAllowed(origin, host string) bool {
	if origin == "" {
		return true
	}
	o, err := url.Parse(origin)
	if err != nil || o.Scheme == "" || o.Host == "" || o.User != nil {
		return false
	}
	hu, err := url.Parse("//" + host)
	if err == nil && strings.EqualFold(o.Hostname(), hu.Hostname()) {
		op, hp := o.Port(), hu.Port()
		def := refDefaultPort(o.Scheme)
		if op == "" {
			op = def
		}
		if hp == "" && op == def || hp != "" && op == hp {
			return true
		}
	}
	ok, _ := path.Match("*.example.org", strings.ToLower(o.Host))
	return ok
}

// refValidRequest re-checks, with net/http, everything the fuzz upgrader
// promises about a request it accepted.
func refValidRequest(hr *http.Request) error {
	h := hr.Header
	switch {
	case hr.Method != "GET":
		return fmt.Errorf("method %q", hr.Method)
	case hr.ProtoMajor != 1 || hr.ProtoMinor < 1:
		return fmt.Errorf("proto %s", hr.Proto)
	case hr.Host == "":
		return fmt.Errorf("no host")
	case hr.ContentLength != 0 || len(hr.TransferEncoding) != 0:
		return fmt.Errorf("body")
	case !refHasToken(h.Values("Upgrade"), "websocket"):
		return fmt.Errorf("upgrade %q", h.Values("Upgrade"))
	case !refHasToken(h.Values("Connection"), "upgrade"):
		return fmt.Errorf("connection %q", h.Values("Connection"))
	}
	keys := h.Values("Sec-WebSocket-Key")
	if len(keys) != 1 || len(keys[0]) != 24 {
		return fmt.Errorf("keys %q", keys)
	}
	if raw, err := base64.StdEncoding.DecodeString(keys[0]); err != nil || len(raw) != 16 {
		return fmt.Errorf("key %q", keys[0])
	}
	vers := h.Values("Sec-WebSocket-Version")
	if len(vers) != 1 || vers[0] != "13" && vers[0] != "8" {
		return fmt.Errorf("version %q", vers)
	}
	if ps := h.Values("Sec-WebSocket-Protocol"); len(ps) > 0 {
		seen := map[string]bool{}
		for _, p := range refList(ps) {
			if !refToken.MatchString(p) || seen[p] {
				return fmt.Errorf("protocols %q", ps)
			}
			seen[p] = true
		}
	}
	if es := h.Values("Sec-WebSocket-Extensions"); len(es) > 0 {
		if _, err := refExtensions(es); err != nil {
			return err
		}
	}
	origin := h.Get("Origin")
	if vers[0] == "8" && h.Get("Sec-WebSocket-Origin") != "" {
		origin = h.Get("Sec-WebSocket-Origin")
	}
	if !refOriginAllowed(origin, hr.Host) {
		return fmt.Errorf("origin %q for host %q", origin, hr.Host)
	}
	return nil
}

func fuzzUpgrader() *Upgrader {
	return &Upgrader{
		Subprotocols:   []string{"chat", "v2.push"},
		Extensions:     pmdNegotiator{},
		OriginPatterns: []string{"*.example.org"},
	}
}

func FuzzUpgrade(f *testing.F) {
	f.Add([]byte(chromeRequest))
	f.Add([]byte(chromeRequest + "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"))
	f.Add([]byte(buildRequest("GET /chat HTTP/1.1", validFields...)))
	f.Add([]byte(buildRequest("GET /a%20b?q=1 HTTP/1.1", append(withField(validFields, "Sec-WebSocket-Version: 8"),
		"Sec-WebSocket-Origin: https://a.example.org", "Sec-WebSocket-Protocol: chat, v2.push",
		`Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; x="1", foo`)...)))
	f.Add([]byte(buildRequest("GET / HTTP/1.1", append(validFields, "Origin: http://server.example.com:80", "Connection: keep-alive")...)))
	f.Add([]byte("POST / HTTP/1.0\r\nHost: x\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\nHost: x\n\n"))
	f.Add([]byte("\x16\x03\x01"))
	// Absolute-form targets (RFC 9112 §3.2.2) and empty list elements (RFC
	// 9110 §5.6.1).
	f.Add([]byte(buildRequest("GET http://server.example.com/chat?x=1 HTTP/1.1", validFields...)))
	f.Add([]byte(buildRequest("GET HTTPS://[::1]:8443 HTTP/1.1", append(validFields, "Origin: https://[::1]:8443")...)))
	f.Add([]byte(buildRequest("GET ws://server.example.com/ HTTP/1.1", validFields...)))
	f.Add([]byte(buildRequest("GET /chat HTTP/1.1", append(withField(validFields, "Upgrade: ,websocket"),
		"Sec-WebSocket-Protocol: chat, , superchat", "Sec-WebSocket-Extensions: , permessage-deflate,")...)))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		u := fuzzUpgrader()
		var log hookLog
		u.OnHandshakeError = log.hook
		req := NewRequest()
		n, err := u.Parse(data, req)
		if err == ErrNeedMore {
			if n != 0 {
				t.Fatalf("ErrNeedMore with n=%d", n)
			}
			return
		}
		if err != nil {
			if s := StatusOf(err); s != 400 && s != 414 && s != 431 {
				t.Fatalf("scan error %v has status %d", err, s)
			}
			ans := AppendError(nil, err)
			if _, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(ans)), nil); err != nil {
				t.Fatalf("error answer does not parse: %v", err)
			}
			if out := u.Refuse(nil, testPeer, err); !bytes.Equal(out, ans) {
				t.Fatalf("Refuse %q, AppendError %q", out, ans)
			}
			fuzzCheckHook(t, &log, ans, err)
			return
		}
		if n <= 0 || n > len(data) || !bytes.HasSuffix(data[:n], []byte("\r\n\r\n")) {
			t.Fatalf("bad block length %d of %d", n, len(data))
		}
		// Incremental contract: a prefix of an accepted block only asks for more.
		for _, k := range []int{0, 1, n / 2, n - 1} {
			if k < n {
				if _, err := ParseRequest(data[:k], NewRequest(), nil); err != ErrNeedMore {
					t.Fatalf("prefix %d of an accepted block: %v", k, err)
				}
			}
		}
		hr, herr := http.ReadRequest(bufio.NewReader(bytes.NewReader(data[:n])))
		if herr != nil && strings.Contains(herr.Error(), "too many Host headers") {
			// net/http counts Host fields while reading; here the scanner
			// leaves field counts to the checks, which must refuse the
			// handshake (RFC 7230 §5.4: 400 for more than one Host).
			if _, res := u.Handshake(req, testPeer, nil, nil); res.Accepted() || res.Status < 400 {
				t.Fatalf("two Host fields: handshake status %d, want a refusal\n%q", res.Status, data[:n])
			}
			return
		}
		if herr != nil {
			t.Fatalf("scanner accepted a block net/http refuses: %v\n%q", herr, data[:n])
		}
		// An absolute-form target (RFC 9112 §3.2.2): the resource name is
		// what follows scheme://authority, "/" for an empty path.
		resource, path := hr.RequestURI, hr.URL.Path
		if req.AbsoluteForm() {
			_, rest, _ := strings.Cut(hr.RequestURI, "://")
			resource = strings.TrimPrefix(rest, hr.URL.Host)
			if resource == "" || resource[0] == '?' {
				resource = "/" + resource
			}
			if path == "" {
				path = "/"
			}
		}
		if hr.Method != req.Method() || resource != req.Resource() || path != req.Path() || hr.URL.RawQuery != req.RawQuery() {
			t.Fatalf("view differs from net/http: %q %q %q", req.Method(), req.Resource(), req.Path())
		}
		out, res := u.Handshake(req, testPeer, nil, nil)
		ans, aerr := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), nil)
		if aerr != nil || ans.StatusCode != res.Status {
			t.Fatalf("answer %q does not parse (%v) or has the wrong status", out, aerr)
		}
		if !res.Accepted() {
			if res.Err == nil || res.Status < 400 {
				t.Fatalf("rejection without a reason: %+v", res)
			}
			if (res.Status == 426) != (ans.Header.Get("Upgrade") == "websocket") {
				t.Fatalf("426 and Upgrade: websocket go together: %q", out)
			}
			fuzzCheckHook(t, &log, out, res.Err)
			return
		}
		if n := len(log.take()); n != 0 {
			t.Fatalf("%d hook calls for an accepted handshake", n)
		}
		if hr.Host != req.Host() {
			t.Fatalf("host %q vs net/http %q", req.Host(), hr.Host)
		}
		if err := refValidRequest(hr); err != nil {
			t.Fatalf("accepted an invalid handshake: %v\n%q", err, data[:n])
		}
		if got, want := ans.Header.Get("Sec-WebSocket-Accept"), refAccept(hr.Header.Get("Sec-WebSocket-Key")); got != want {
			t.Fatalf("accept %q, want %q", got, want)
		}
		if p := ans.Header.Values("Sec-WebSocket-Protocol"); len(p) > 0 {
			offered := refList(hr.Header.Values("Sec-WebSocket-Protocol"))
			if len(p) != 1 || !strings.Contains(","+strings.Join(offered, ",")+",", ","+p[0]+",") || p[0] != res.Subprotocol {
				t.Fatalf("subprotocol %q not among %q (result %q)", p, offered, res.Subprotocol)
			}
		}
		if e := ans.Header.Values("Sec-WebSocket-Extensions"); len(e) > 0 {
			names, err := refExtensions(e)
			offered, _ := refExtensions(hr.Header.Values("Sec-WebSocket-Extensions"))
			if err != nil || len(names) != 1 || !strings.Contains(","+strings.Join(offered, ",")+",", ","+names[0]+",") {
				t.Fatalf("extension answer %q for offers %q", e, offered)
			}
		}
	})
}

// fuzzCheckHook: one OnHandshakeError call, for the raw path, describing the
// rejection ans exactly.
func fuzzCheckHook(t *testing.T, log *hookLog, ans []byte, err error) {
	t.Helper()
	calls := log.take()
	if len(calls) != 1 || calls[0].peer != testPeer || calls[0].r != nil {
		t.Fatalf("hook calls %+v for %v", calls, err)
	}
	status, hdr, body := wireAnswer(t, bufio.NewReader(bytes.NewReader(ans)))
	checkCall(t, calls[0], status, hdr, body, err)
}

func FuzzResponse(f *testing.F) {
	ok := buildResponse("HTTP/1.1 101 Switching Protocols", okFields...)
	f.Add([]byte(ok))
	f.Add([]byte(ok + "\x81\x02hi"))
	f.Add([]byte(buildResponse("HTTP/1.1 101 Switching Protocols", append(okFields, "Sec-WebSocket-Protocol: chat",
		"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10")...)))
	f.Add([]byte("HTTP/1.1 403 Forbidden\r\nX-WebSocket-Reject-Reason: no\r\nContent-Length: 3\r\n\r\nno\n"))
	f.Add([]byte("HTTP/1.1 101\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 200 OK\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		creq := testClientRequest()
		var resp Response
		n, err := ParseResponse(data, &resp, nil)
		if err == ErrNeedMore {
			return
		}
		if err != nil {
			if err != ErrMalformedResponse && err != ErrResponseHeaderTooLarge {
				t.Fatalf("unexpected scan error %v", err)
			}
			return
		}
		for _, k := range []int{0, 1, n / 2, n - 1} {
			if k < n {
				if _, err := ParseResponse(data[:k], &Response{}, nil); err != ErrNeedMore {
					t.Fatalf("prefix %d of an accepted block: %v", k, err)
				}
			}
		}
		hr, herr := http.ReadResponse(bufio.NewReader(bytes.NewReader(data[:n])), nil)
		if herr != nil {
			t.Fatalf("scanner accepted a response net/http refuses: %v\n%q", herr, data[:n])
		}
		if hr.StatusCode != resp.StatusCode() {
			t.Fatalf("status %d vs net/http %d", resp.StatusCode(), hr.StatusCode)
		}
		res, err := ValidateResponse(creq, &resp)
		if err != nil {
			if (resp.StatusCode() != 101) != (StatusOf(err) == resp.StatusCode()) {
				t.Fatalf("status %d gave %v", resp.StatusCode(), err)
			}
			return
		}
		// Re-read the fields with textproto: net/http drops Connection: close.
		tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(data[:n])))
		if _, err := tp.ReadLine(); err != nil {
			t.Fatal(err)
		}
		h, err := tp.ReadMIMEHeader()
		if err != nil {
			t.Fatalf("textproto refuses what was accepted: %v", err)
		}
		switch {
		case hr.StatusCode != 101 || hr.ProtoMajor != 1 || hr.ProtoMinor < 1:
			t.Fatalf("accepted status %d %s", hr.StatusCode, hr.Proto)
		case !refHasToken(h.Values("Upgrade"), "websocket") || !refHasToken(h.Values("Connection"), "upgrade"):
			t.Fatalf("accepted without the upgrade tokens: %v", h)
		case len(h.Values("Sec-Websocket-Accept")) != 1 || h.Get("Sec-Websocket-Accept") != refAccept(creq.Key.String()):
			t.Fatalf("accepted a wrong accept hash %q", h.Values("Sec-Websocket-Accept"))
		}
		if p := h.Values("Sec-Websocket-Protocol"); len(p) > 0 {
			if len(p) != 1 || (p[0] != "chat" && p[0] != "superchat") || res.Subprotocol != p[0] {
				t.Fatalf("accepted subprotocol %q (result %q)", p, res.Subprotocol)
			}
		} else if res.Subprotocol != "" {
			t.Fatalf("subprotocol %q out of nowhere", res.Subprotocol)
		}
		if e := h.Values("Sec-Websocket-Extensions"); len(e) > 0 {
			names, err := refExtensions(e)
			if err != nil {
				t.Fatalf("accepted malformed extensions %q: %v", e, err)
			}
			for _, name := range names {
				if name != "permessage-deflate" {
					t.Fatalf("accepted extension %q that was not offered", name)
				}
			}
			if len(res.Extensions) != len(names) {
				t.Fatalf("result extensions %v vs %q", res.Extensions, names)
			}
		}
	})
}

// FuzzParseExtensions checks that what parses formats back to something that
// parses to the same offers.
func FuzzParseExtensions(f *testing.F) {
	f.Add("permessage-deflate; client_max_window_bits; server_max_window_bits=10")
	f.Add(`a; b="c", d`)
	f.Add(`a; x="\1\2"`)
	f.Fuzz(func(t *testing.T, s string) {
		offers, err := ParseExtensions(s)
		ref, rerr := refExtensions([]string{s})
		if err != nil {
			return
		}
		if rerr != nil || len(ref) != len(offers) {
			t.Fatalf("accepted %q that the reference refuses: %v", s, rerr)
		}
		again, err := ParseExtensions(FormatExtensions(offers))
		if err != nil || !reflect.DeepEqual(again, offers) {
			t.Fatalf("round trip of %q: %+v vs %+v (%v)", s, again, offers, err)
		}
	})
}

// FuzzParseRequestPrefixes: under any limits, every prefix of a request
// either asks for more or gets the answer the whole request gets, so a reader
// that stops at the first answer answers as one read would, however the
// reads cut the request.
func FuzzParseRequestPrefixes(f *testing.F) {
	f.Add([]byte("GET /"+strings.Repeat("a", 3000)+" HTTP/1.1\r\n\r\n"), uint16(1000), uint16(2000), uint16(1000))
	f.Add([]byte("GET / HTTP/1.1\r\nX: "+strings.Repeat("a", 1500)+"\r\n\r\n"), uint16(1000), uint16(2000), uint16(1000))
	f.Add([]byte(chromeRequest), uint16(0), uint16(0), uint16(40))
	f.Add([]byte("GET http://server.example.com:80/"+strings.Repeat("a", 1500)+"?q HTTP/1.1\r\nHost: x\r\n\r\n"), uint16(3000), uint16(1000), uint16(12))
	f.Add([]byte("GET https://user@h/ HTTP/1.1\r\nHost: x\r\n\r\n"), uint16(0), uint16(0), uint16(20))
	f.Fuzz(func(t *testing.T, data []byte, block, line, cut uint16) {
		lim := &Limits{MaxHeaderBytes: int(block), MaxLineBytes: int(line), MaxHeaders: 8}
		wantN, want := ParseRequest(data, NewRequest(), lim)
		mb, _, ml := lim.values()
		for _, k := range []int{int(cut) % (len(data) + 1), mb - 1, mb, mb + 1, ml - 1, ml, ml + 1} {
			if k < 0 || k > len(data) {
				continue
			}
			n, err := ParseRequest(data[:k], NewRequest(), lim)
			if err == ErrNeedMore {
				continue
			}
			if err != want || err == nil && n != wantN {
				t.Fatalf("prefix of %d bytes: %d, %v; whole: %d, %v (block %d, line %d)", k, n, err, wantN, want, mb, ml)
			}
		}
	})
}
