package upgrade

import (
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strconv"
)

// Key is a Sec-WebSocket-Key: base64 of 16 random bytes (RFC 6455 §4.1 step 7),
// kept in an array so building a request does not allocate.
type Key [24]byte

// GenerateKey returns a fresh key from crypto/rand (watershed's generateKey).
func GenerateKey() Key {
	var nonce [16]byte
	_, _ = rand.Read(nonce[:]) // never fails since Go 1.24; it aborts the program instead
	var k Key
	base64.StdEncoding.Encode(k[:], nonce[:])
	return k
}

// ParseKey checks that s is base64 of 16 bytes and returns it as a Key.
func ParseKey(s string) (Key, error) {
	var k Key
	if !validKey(s) {
		return k, ErrBadKey
	}
	copy(k[:], s)
	return k, nil
}

// String returns the key as sent.
func (k Key) String() string { return string(k[:]) }

// ClientRequest describes a client's opening handshake (RFC 6455 §4.1).
// NewClientRequest fills it from a URL; AppendTo writes it.
type ClientRequest struct {
	// Host is the Host header: the URL's host, with the port only when it is
	// not the scheme's default.
	Host string
	// Resource is the request-target: escaped path and query, "/" when empty.
	Resource string
	// Addr is host:port to dial, the default port filled in (set by SetURL).
	Addr string
	// Secure is true for wss and https URLs (set by SetURL).
	Secure bool
	// Key is the Sec-WebSocket-Key; ValidateResponse checks the answer with it.
	Key Key
	// Version is 13 (also when 0) or 8. With 8 the origin is sent as
	// Sec-WebSocket-Origin, as the HyBi drafts did.
	Version int
	// Origin, when set, is sent as Origin (or Sec-WebSocket-Origin).
	Origin string
	// Subprotocols are offered in this order.
	Subprotocols []string
	// Extensions are offered in this order.
	Extensions []ExtensionOffer
	// Header holds extra fields. The handshake's own fields, Origin included,
	// are refused with ErrReservedHeader; an Authorization here wins over
	// BasicAuth.
	Header http.Header
	// BasicAuth, when set, is sent as Authorization: Basic (from URL user info).
	BasicAuth *url.Userinfo
}

// NewClientRequest parses rawURL (ws, wss, http or https, no fragment) and
// returns a request for it with a fresh key and version 13.
func NewClientRequest(rawURL string) (*ClientRequest, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, ErrBadURL
	}
	r := &ClientRequest{Key: GenerateKey(), Version: 13}
	if err := r.SetURL(u); err != nil {
		return nil, err
	}
	return r, nil
}

// SetURL sets Host, Resource, Addr, Secure and BasicAuth from u. URL user info
// becomes Basic auth, percent-unescaped.
func (r *ClientRequest) SetURL(u *url.URL) error {
	var def string
	switch {
	case equalFold(u.Scheme, "ws"), equalFold(u.Scheme, "http"):
		def, r.Secure = "80", false
	case equalFold(u.Scheme, "wss"), equalFold(u.Scheme, "https"):
		def, r.Secure = "443", true
	default:
		return ErrBadURL
	}
	// RFC 6455 §3: fragment identifiers MUST NOT be used.
	if u.Fragment != "" || u.RawFragment != "" || u.Host == "" || u.Opaque != "" {
		return ErrBadURL
	}
	port := u.Port()
	r.Host = u.Host
	if port == def {
		r.Host = u.Host[:len(u.Host)-len(port)-1]
	}
	if port == "" {
		port = def
	}
	r.Addr = net.JoinHostPort(u.Hostname(), port)
	r.Resource = u.RequestURI()
	r.BasicAuth = u.User
	return nil
}

// validResource applies the scanner's request-target rules to a resource we send.
func validResource(res string) bool {
	if res[0] != '/' {
		return false
	}
	query := false
	for i := 0; i < len(res); i++ {
		switch c := res[i]; {
		case class[c]&cTarget == 0:
			return false
		case c == '?':
			query = true
		case c == '%' && !query:
			if i+2 >= len(res) || class[res[i+1]]&cHex == 0 || class[res[i+2]]&cHex == 0 {
				return false
			}
			i += 2
		}
	}
	return true
}

// reservedRequest reports whether name is a field the handshake writes itself.
func reservedRequest(name string) bool {
	switch lookupID(name) {
	case hOther:
		return false
	}
	return true
}

func (r *ClientRequest) check() error {
	if r.Version != 0 && r.Version != 13 && r.Version != 8 {
		return ErrBadClientRequest
	}
	if !validKey(bstr(r.Key[:])) || !validHost(r.Host) || !validFieldValue(r.Origin) {
		return ErrBadClientRequest
	}
	if r.Resource != "" && !validResource(r.Resource) {
		return ErrBadClientRequest
	}
	for i, p := range r.Subprotocols {
		if !isToken(p) || indexOffered(r.Subprotocols[:i], p, false) >= 0 {
			return ErrBadClientRequest
		}
	}
	if !validExtensionOffers(r.Extensions) {
		return ErrBadClientRequest
	}
	for k, vs := range r.Header {
		if reservedRequest(k) {
			return ErrReservedHeader
		}
		for _, v := range vs {
			if !isToken(k) || !validFieldValue(v) {
				return ErrInvalidHeader
			}
		}
	}
	if a := r.BasicAuth; a != nil {
		p, _ := a.Password()
		if !validFieldValue(a.Username()) || !validFieldValue(p) {
			return ErrInvalidHeader
		}
	}
	return nil
}

// AppendTo appends the request's header block to dst. It allocates nothing for
// requests without Header and with short Basic credentials. It returns
// ErrBadClientRequest for a bad version, key, host, resource, subprotocol or
// extension, and the header errors for Header.
func (r *ClientRequest) AppendTo(dst []byte) ([]byte, error) {
	if err := r.check(); err != nil {
		return dst, err
	}
	res := r.Resource
	if res == "" {
		res = "/"
	}
	dst = append(dst, "GET "...)
	dst = append(dst, res...)
	dst = append(dst, " HTTP/1.1\r\n"...)
	dst = appendField(dst, "Host", r.Host)
	dst = append(dst, "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "...)
	dst = append(dst, r.Key[:]...)
	dst = append(dst, "\r\nSec-WebSocket-Version: "...)
	v := r.Version
	if v == 0 {
		v = 13
	}
	dst = strconv.AppendInt(dst, int64(v), 10)
	dst = append(dst, "\r\n"...)
	if r.Origin != "" {
		name := "Origin"
		if v == 8 {
			name = "Sec-WebSocket-Origin"
		}
		dst = appendField(dst, name, r.Origin)
	}
	if len(r.Subprotocols) > 0 {
		dst = append(dst, "Sec-WebSocket-Protocol: "...)
		for i, p := range r.Subprotocols {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = append(dst, p...)
		}
		dst = append(dst, "\r\n"...)
	}
	if len(r.Extensions) > 0 {
		dst = append(dst, "Sec-WebSocket-Extensions: "...)
		dst = AppendExtensions(dst, r.Extensions)
		dst = append(dst, "\r\n"...)
	}
	if a := r.BasicAuth; a != nil && len(r.Header["Authorization"]) == 0 {
		dst = appendBasicAuth(dst, a)
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			dst = appendField(dst, k, v)
		}
	}
	return append(dst, "\r\n"...), nil
}

// appendBasicAuth appends Authorization: Basic base64(user ":" password)
// (RFC 7617), building the credentials on the stack when they are short.
func appendBasicAuth(dst []byte, a *url.Userinfo) []byte {
	var stack [128]byte
	user := a.Username()
	pass, _ := a.Password()
	cred := append(append(append(stack[:0], user...), ':'), pass...)
	dst = append(dst, "Authorization: Basic "...)
	dst = base64.StdEncoding.AppendEncode(dst, cred)
	return append(dst, "\r\n"...)
}
