package upgrade

import (
	"iter"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// Request is a view of a scanned opening handshake plus the scratch space the
// handshake needs, so one Request per engine worker serves every connection the
// worker handles with no allocation. The zero value is ready to use; Reset is
// implied by [ParseRequest].
//
// Every string and slice a Request returns points into the scanned buffer and is
// valid only while that buffer is unchanged, that is during the handshake. Copy
// what you keep (strings.Clone) or take a [Request.Clone]. Do not copy a Request
// by value.
type Request struct {
	hb                    block
	method, target        span
	major, minor          uint8
	parsed                bool
	version               int // 13 or 8 once checked
	protos                []string
	exts                  []ExtensionOffer
	params                []ExtensionParam
	peer                  netip.AddrPort
	trusted               []netip.Prefix
	ipHeader              string
	httpReq               *http.Request
	dec                   Decision
	resp                  ResponseHeader
	accept                [28]byte
	extOut                []byte
	scratch               []byte      // the adapter serialises *http.Request here
	preset                http.Header // fields the handler set on the ResponseWriter
	rejReason             string
	checkedProtos, hasExt bool
	tls                   *tlsInfo // the TLS connection the request came on (SetTLS)
}

// NewRequest returns a Request with room for a typical handshake, so even the
// first use does not grow its index slices.
func NewRequest() *Request {
	r := &Request{
		protos: make([]string, 0, 8),
		exts:   make([]ExtensionOffer, 0, 4),
		params: make([]ExtensionParam, 0, 8),
		extOut: make([]byte, 0, 128),
	}
	r.hb.fields = make([]field, 0, 32)
	r.resp.kv = make([]kv, 0, 16)
	r.reset()
	return r
}

func (r *Request) reset() {
	r.hb.reset()
	r.method, r.target = span{}, span{}
	r.major, r.minor, r.parsed, r.version = 0, 0, false, 0
	clear(r.protos)
	r.protos = r.protos[:0]
	clear(r.exts)
	r.exts = r.exts[:0]
	clear(r.params)
	r.params = r.params[:0]
	r.peer, r.trusted, r.ipHeader, r.httpReq = netip.AddrPort{}, nil, "", nil
	r.preset, r.rejReason = nil, ""
	r.dec.reset(nil, nil, nil)
	r.resp.reset()
	r.extOut = r.extOut[:0]
	r.checkedProtos, r.hasExt = false, false
}

// Raw returns the header block as received, request line to final CRLF.
func (r *Request) Raw() []byte { return r.hb.buf }

// Method returns the request method (always GET once the handshake checks pass).
func (r *Request) Method() string { return r.hb.str(r.method) }

// Proto returns the HTTP version from the request line.
func (r *Request) Proto() (major, minor int) { return int(r.major), int(r.minor) }

// Resource returns the request-target as sent: the escaped path and the query.
func (r *Request) Resource() string { return r.hb.str(r.target) }

// Path returns the unescaped path (like url.URL.Path). It allocates only when the
// path contains percent escapes.
func (r *Request) Path() string {
	p := r.EscapedPath()
	if strings.IndexByte(p, '%') < 0 {
		return p
	}
	if u, err := url.PathUnescape(p); err == nil {
		return u
	}
	return p
}

// EscapedPath returns the path as sent, without the query.
func (r *Request) EscapedPath() string {
	p, _ := cutByte(r.Resource(), '?')
	return p
}

// RawQuery returns the query as sent, without the '?'.
func (r *Request) RawQuery() string {
	_, q := cutByte(r.Resource(), '?')
	return q
}

// Query returns the first value of the named query parameter, unescaped like
// url.ParseQuery does. It allocates only when a key or value has escapes.
func (r *Request) Query(name string) (string, bool) {
	q := r.RawQuery()
	for q != "" {
		var pair string
		pair, q = cutByte(q, '&')
		k, v := cutByte(pair, '=')
		if unescapeQuery(k) == name {
			return unescapeQuery(v), true
		}
	}
	return "", false
}

func unescapeQuery(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// Host returns the Host header, port included when the client sent one.
func (r *Request) Host() string { return r.hb.get(hHost) }

// Version returns the Sec-WebSocket-Version the client asked for (13 or 8 once
// the checks passed, 0 before).
func (r *Request) Version() int { return r.version }

// Key returns Sec-WebSocket-Key.
func (r *Request) Key() string { return r.hb.get(hKey) }

// Origin returns the browser origin: Origin, or Sec-WebSocket-Origin for version
// 8 clients (the HyBi drafts used that name). Empty when absent.
func (r *Request) Origin() string {
	if r.version == 8 {
		if o := r.hb.get(hWSOrigin); o != "" {
			return o
		}
	}
	return r.hb.get(hOrigin)
}

// Subprotocols returns the offered subprotocols in the client's order and
// spelling. The slice belongs to the Request.
func (r *Request) Subprotocols() []string { return r.protos }

// Extensions returns the offered extensions, parsed, in the client's order. The
// slice belongs to the Request.
func (r *Request) Extensions() []ExtensionOffer { return r.exts }

// Header returns the first value of the named header, matched
// case-insensitively, with surrounding whitespace removed.
func (r *Request) Header(name string) string {
	v, _ := r.hb.header(name)
	return v
}

// LookupHeader is Header that also says whether the header was present.
func (r *Request) LookupHeader(name string) (string, bool) { return r.hb.header(name) }

// Values yields every value of the named header in order (one per line).
func (r *Request) Values(name string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, f := range r.hb.fields {
			if equalFold(r.hb.str(f.name), name) && !yield(r.hb.str(f.value)) {
				return
			}
		}
	}
}

// Headers yields every header line as (name as sent, value) in order.
func (r *Request) Headers() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, f := range r.hb.fields {
			if !yield(r.hb.str(f.name), r.hb.str(f.value)) {
				return
			}
		}
	}
}

// HTTPHeader copies the headers into a new http.Header (allocates).
func (r *Request) HTTPHeader() http.Header {
	h := make(http.Header, len(r.hb.fields))
	for _, f := range r.hb.fields {
		k := http.CanonicalHeaderKey(string(r.hb.buf[f.name.off:f.name.end]))
		h[k] = append(h[k], string(r.hb.buf[f.value.off:f.value.end]))
	}
	return h
}

// Cookie returns the value of the named cookie from the Cookie headers, with
// surrounding double quotes removed.
func (r *Request) Cookie(name string) (string, bool) {
	for _, f := range r.hb.fields {
		if !equalFold(r.hb.str(f.name), "cookie") {
			continue
		}
		for s := r.hb.str(f.value); s != ""; {
			var k, v string
			k, v, s = nextCookie(s)
			if k == name && k != "" {
				return v, true
			}
		}
	}
	return "", false
}

// Cookies yields every (name, value) pair of the Cookie headers (RFC 6265 §5.4).
func (r *Request) Cookies() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, f := range r.hb.fields {
			if !equalFold(r.hb.str(f.name), "cookie") {
				continue
			}
			for s := r.hb.str(f.value); s != ""; {
				var k, v string
				if k, v, s = nextCookie(s); k != "" && !yield(k, v) {
					return
				}
			}
		}
	}
}

// nextCookie takes the first "name=value" pair off a Cookie header value.
func nextCookie(s string) (name, value, rest string) {
	part, rest := cutByte(s, ';')
	name, value = cutByte(trimOWS(part), '=')
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		value = value[1 : len(value)-1]
	}
	return name, value, rest
}

// Peer returns the TCP peer address given to the handshake.
func (r *Request) Peer() netip.AddrPort { return r.peer }

// HTTPRequest returns the *http.Request when the handshake runs through the
// net/http adapter, nil on the raw path.
func (r *Request) HTTPRequest() *http.Request { return r.httpReq }

// Clone returns a deep copy that owns its bytes and stays valid after the
// original buffer is reused. It allocates.
func (r *Request) Clone() *Request {
	c := &Request{}
	c.reset()
	if !r.parsed {
		return c
	}
	buf := append([]byte(nil), r.hb.buf...)
	if _, err := ParseRequest(buf, c, &Limits{MaxHeaderBytes: len(buf) + 1, MaxHeaders: len(r.hb.fields) + 1, MaxLineBytes: len(buf) + 1}); err != nil {
		panic("upgrade: Clone of a valid request failed: " + err.Error())
	}
	c.peer, c.trusted, c.ipHeader, c.httpReq, c.preset = r.peer, r.trusted, r.ipHeader, r.httpReq, r.preset
	if r.tls != nil {
		c.tls = &tlsInfo{conn: r.tls.conn} // the same connection; its state read afresh
	}
	if r.checkedProtos {
		// Cannot fail: the same bytes passed before.
		_ = c.parseOffers()
		c.version = r.version
	}
	return c
}
