package upgrade

import (
	"iter"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"unsafe"
)

// Request is a view of a scanned opening handshake plus the scratch space the
// handshake needs, so one Request per engine worker serves every connection the
// worker handles with no allocation. The zero value is ready to use; Reset is
// implied by [ParseRequest].
//
// Every string a Request returns is safe to keep: Go strings never change, and
// the first string accessor called during a handshake gives the Request a
// private copy of the header block (one allocation; every later string is a
// view of that copy, which is never reused). A handshake whose hooks call no
// string accessor copies nothing. The []byte accessors ([Request.Raw],
// [Request.HeaderBytes], [Request.QueryBytes]) are the zero-copy views: valid
// only during the call that handed out the Request (the hook), and not to be
// modified. Do not copy a Request by value.
type Request struct {
	hb                    block
	method, target        span // target: path and query (resource)
	authority             span // of an absolute-form target (absolute)
	absolute              bool
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
	owned                 bool     // hb.buf is the Request's own copy (own)
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
	r.method, r.target, r.authority, r.absolute = span{}, span{}, span{}, false
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
	r.owned = false
}

// own gives r a private copy of its header block before a string of it reaches
// the caller, and moves the views r holds (offered subprotocols and extensions)
// onto it. Strings the scanner made are views of the caller's buffer, which the
// engine reuses for the next connection at once: handed out as they are, a
// string a verify hook kept would later read another client's bytes.
func (r *Request) own() {
	if r.owned {
		return
	}
	r.owned = true
	old := r.hb.buf
	if len(old) == 0 {
		return
	}
	nb := append([]byte(nil), old...)
	r.hb.buf = nb
	for i := range r.protos {
		r.protos[i] = rebase(r.protos[i], old, nb)
	}
	for i := range r.exts {
		r.exts[i].Name = rebase(r.exts[i].Name, old, nb)
	}
	for i := range r.params {
		r.params[i].Name = rebase(r.params[i].Name, old, nb)
		r.params[i].Value = rebase(r.params[i].Value, old, nb)
	}
}

// Raw returns the header block as received, request line to final CRLF.
func (r *Request) Raw() []byte { return r.hb.buf }

// Method returns the request method (always GET once the handshake checks pass).
func (r *Request) Method() string { r.own(); return r.hb.str(r.method) }

// Proto returns the HTTP version from the request line.
func (r *Request) Proto() (major, minor int) { return int(r.major), int(r.minor) }

// Resource returns the resource name (RFC 6455 §3) as sent: the escaped path
// and the query. Of an absolute-form request-target (RFC 9112 §3.2.2,
// "GET http://host/chat HTTP/1.1") it is the path and query, "/" standing for
// an empty path; the authority is [Request.Host].
func (r *Request) Resource() string {
	r.own()
	t := r.hb.str(r.target)
	if r.absolute && (t == "" || t[0] == '?') {
		return "/" + t
	}
	return t
}

// AbsoluteForm reports whether the request-target was an absolute URI
// (RFC 9112 §3.2.2) rather than a path.
func (r *Request) AbsoluteForm() bool { return r.absolute }

// Path returns the unescaped path (like url.URL.Path).
func (r *Request) Path() string { r.own(); return r.path() }

// path is Path without the copy (views for the handshake's own checks).
func (r *Request) path() string {
	p, _ := cutByte(r.hb.str(r.target), '?')
	if p == "" {
		return "/" // an absolute-form target with an empty path (RFC 6455 §3)
	}
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
func (r *Request) RawQuery() string { r.own(); return r.rawQuery() }

func (r *Request) rawQuery() string {
	_, q := cutByte(r.hb.str(r.target), '?')
	return q
}

// Query returns the first value of the named query parameter, unescaped like
// url.ParseQuery does.
func (r *Request) Query(name string) (string, bool) {
	r.own()
	return r.query(name)
}

// QueryBytes is Query without the copy: a view of the request bytes (or, when
// the value has escapes, a fresh unescaped copy), valid only during the hook
// that got r, and not to be modified.
func (r *Request) QueryBytes(name string) ([]byte, bool) {
	v, ok := r.query(name)
	return unsafe.Slice(unsafe.StringData(v), len(v)), ok
}

func (r *Request) query(name string) (string, bool) {
	q := r.rawQuery()
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

// Host returns the Host header, port included when the client sent one. For
// an absolute-form request-target it is the target's authority instead: RFC
// 9112 §3.2.2 has a server ignore the Host field then and use the target's.
func (r *Request) Host() string { r.own(); return r.host() }

func (r *Request) host() string {
	if r.absolute {
		return r.hb.str(r.authority)
	}
	return r.hb.get(hHost)
}

// Version returns the Sec-WebSocket-Version the client asked for (13 or 8 once
// the checks passed, 0 before).
func (r *Request) Version() int { return r.version }

// Key returns Sec-WebSocket-Key.
func (r *Request) Key() string { r.own(); return r.hb.get(hKey) }

// Origin returns the browser origin: Origin, or Sec-WebSocket-Origin for version
// 8 clients (the HyBi drafts used that name). Empty when absent.
func (r *Request) Origin() string { r.own(); return r.origin() }

func (r *Request) origin() string {
	if r.version == 8 {
		if o := r.hb.get(hWSOrigin); o != "" {
			return o
		}
	}
	return r.hb.get(hOrigin)
}

// Subprotocols returns the offered subprotocols in the client's order and
// spelling. The slice belongs to the Request.
func (r *Request) Subprotocols() []string { r.own(); return r.protos }

// Extensions returns the offered extensions, parsed, in the client's order. The
// slice belongs to the Request.
func (r *Request) Extensions() []ExtensionOffer { r.own(); return r.exts }

// Header returns the first value of the named header, matched
// case-insensitively, with surrounding whitespace removed.
func (r *Request) Header(name string) string {
	r.own()
	v, _ := r.hb.header(name)
	return v
}

// HeaderBytes is Header without the copy: a view of the request bytes, valid
// only during the hook that got r, and not to be modified. nil when absent.
func (r *Request) HeaderBytes(name string) []byte {
	v, ok := r.hb.header(name)
	if !ok {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(v), len(v))
}

// LookupHeader is Header that also says whether the header was present.
func (r *Request) LookupHeader(name string) (string, bool) { r.own(); return r.hb.header(name) }

// Values yields every value of the named header in order (one per line).
func (r *Request) Values(name string) iter.Seq[string] {
	r.own()
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
	r.own()
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
	r.own()
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
	r.own()
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
		c.owned = true
		return c
	}
	buf := append([]byte(nil), r.hb.buf...)
	if _, err := ParseRequest(buf, c, &Limits{MaxHeaderBytes: len(buf) + 1, MaxHeaders: len(r.hb.fields) + 1, MaxLineBytes: len(buf) + 1}); err != nil {
		panic("upgrade: Clone of a valid request failed: " + err.Error())
	}
	c.owned = true // buf is its own, never reused
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
