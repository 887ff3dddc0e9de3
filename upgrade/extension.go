package upgrade

import "strings"

// ExtensionParam is one extension parameter. Value is "" for a parameter sent
// without a value (e.g. client_max_window_bits); quoted values arrive unquoted.
type ExtensionParam struct {
	Name, Value string
}

// ExtensionOffer is one element of a Sec-WebSocket-Extensions header: an
// extension name and its parameters, in the order sent (RFC 6455 §9.1).
type ExtensionOffer struct {
	Name   string
	Params []ExtensionParam
}

// Param returns the value of the named parameter and whether it is present.
func (o ExtensionOffer) Param(name string) (string, bool) {
	for _, p := range o.Params {
		if equalFold(p.Name, name) {
			return p.Value, true
		}
	}
	return "", false
}

// ExtensionNegotiator accepts or declines the client's extension offers on the
// server side. It is deliberately small: permessage-deflate (RFC 7692) is the
// only planned implementer, and a second extension would widen it only then.
//
// NegotiateExtensions is called after the verify hook accepted, only when the
// client offered at least one extension, on the goroutine running the
// handshake. offers are in the client's order and alias the request buffer: copy
// anything kept. It appends to dst the value of the Sec-WebSocket-Extensions
// response header (without the name; nothing to decline every offer) and
// returns it with the negotiated state, which the handshake hands back untouched
// in Result.Extensions. Return a pointer (or nil) as accepted to keep the
// handshake allocation-free. Every extension named in the returned header must
// have been offered, otherwise the handshake fails with ErrBadNegotiation
// instead of sending it. A non-nil error rejects the handshake with
// StatusOf(err); return ErrBadExtensions (400) for an offer that is malformed
// beyond declining. RFC 7692 §5 prefers declining an offer it cannot take.
type ExtensionNegotiator interface {
	NegotiateExtensions(offers []ExtensionOffer, dst []byte) (header []byte, accepted any, err error)
}

// ParseExtensions parses a Sec-WebSocket-Extensions value (RFC 6455 §9.1): a
// comma-separated list of extension tokens, each followed by ";"-separated
// parameters whose values are tokens or quoted strings that unquote to tokens.
// Whitespace is allowed around ',' and ';'. The strings alias s.
func ParseExtensions(s string) ([]ExtensionOffer, error) {
	offers, _, err := appendExtensions(nil, nil, s)
	if err != nil {
		return nil, err
	}
	return offers, nil
}

// extScanner walks a Sec-WebSocket-Extensions value element by element without
// storing anything, so callers decide what to keep.
type extScanner struct {
	s     string
	i     int
	empty int // empty list elements seen
	bad   bool
}

// skipEmpty moves past OWS and the empty list elements before the next
// element. RFC 9110 §5.6.1 has a recipient ignore a reasonable number of
// them; past maxEmptyListElements the value is malformed.
func (sc *extScanner) skipEmpty() {
	for {
		sc.i = skipOWS(sc.s, sc.i)
		if sc.i >= len(sc.s) || sc.s[sc.i] != ',' {
			return
		}
		sc.emptyElement()
		sc.i++
	}
}

func (sc *extScanner) emptyElement() {
	if sc.empty++; sc.empty > maxEmptyListElements {
		sc.bad = true
	}
}

// name reads the extension token that starts an element, after any empty
// elements; a value with no element at all is malformed (1#extension).
func (sc *extScanner) name() string {
	sc.skipEmpty()
	if sc.bad {
		return ""
	}
	n, j := scanToken(sc.s, sc.i)
	if n == "" {
		sc.bad = true
	}
	sc.i = j
	return n
}

// param reads the next ";" name ["=" value] of the current element; ok is false
// at the element's end or on an error (then sc.bad is set).
func (sc *extScanner) param() (name, value string, ok bool) {
	s := sc.s
	i := skipOWS(s, sc.i)
	if i >= len(s) || s[i] != ';' {
		sc.i = i
		return "", "", false
	}
	i = skipOWS(s, i+1)
	name, i = scanToken(s, i)
	if name == "" {
		sc.bad = true
		return "", "", false
	}
	if i < len(s) && s[i] == '=' {
		i++
		if i < len(s) && s[i] == '"' {
			var good bool
			// RFC 6455 §9.1: a quoted value must unquote to a token.
			if value, i, good = scanQuoted(s, i); !good || !isToken(value) {
				sc.bad = true
				return "", "", false
			}
		} else if value, i = scanToken(s, i); value == "" {
			sc.bad = true
			return "", "", false
		}
	}
	sc.i = i
	return name, value, true
}

// more consumes the ',' after an element and the empty elements after it:
// true if another element follows, false at the end of the value (or on an
// error).
func (sc *extScanner) more() bool {
	if sc.bad || sc.i >= len(sc.s) {
		return false
	}
	if sc.s[sc.i] != ',' {
		sc.bad = true
		return false
	}
	sc.i++
	sc.skipEmpty()
	if !sc.bad && sc.i >= len(sc.s) {
		sc.emptyElement() // the value ends with an empty element
	}
	return !sc.bad && sc.i < len(sc.s)
}

// appendExtensions parses v onto offers/params without allocating unless a
// quoted value holds a backslash escape. Params of each offer are a capped
// sub-slice of params.
func appendExtensions(offers []ExtensionOffer, params []ExtensionParam, v string) ([]ExtensionOffer, []ExtensionParam, error) {
	sc := extScanner{s: v}
	for {
		o := ExtensionOffer{Name: sc.name()}
		start := len(params)
		for {
			pn, pv, ok := sc.param()
			if !ok {
				break
			}
			params = append(params, ExtensionParam{pn, pv})
		}
		if sc.bad {
			return offers, params, ErrBadExtensions
		}
		if len(params) > start {
			o.Params = params[start:len(params):len(params)]
		}
		offers = append(offers, o)
		if !sc.more() {
			break
		}
	}
	if sc.bad {
		return offers, params, ErrBadExtensions
	}
	return offers, params, nil
}

func skipOWS(s string, i int) int {
	for i < len(s) && isOWS(s[i]) {
		i++
	}
	return i
}

// scanToken returns the token starting at s[i] ("" if none) and the index after it.
func scanToken(s string, i int) (string, int) {
	j := i
	for j < len(s) && class[s[j]]&cTchar != 0 {
		j++
	}
	return s[i:j], j
}

// scanQuoted reads the quoted-string at s[i] == '"' (RFC 7230 §3.2.6) and returns
// its unescaped content and the index after the closing quote.
func scanQuoted(s string, i int) (string, int, bool) {
	escaped := false
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '"':
			content := s[i+1 : j]
			if escaped {
				content = unquote(content)
			}
			return content, j + 1, true
		case c == '\\':
			if j+1 >= len(s) || class[s[j+1]]&cField == 0 {
				return "", j, false
			}
			escaped = true
			j++
		case class[c]&cField == 0:
			return "", j, false
		}
	}
	return "", len(s), false
}

func unquote(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// AppendExtensions appends exts as a Sec-WebSocket-Extensions value: parameter
// values that are not tokens are quoted.
func AppendExtensions(dst []byte, exts []ExtensionOffer) []byte {
	for i, e := range exts {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = append(dst, e.Name...)
		for _, p := range e.Params {
			dst = append(dst, "; "...)
			dst = append(dst, p.Name...)
			if p.Value == "" {
				continue
			}
			dst = append(dst, '=')
			if isToken(p.Value) {
				dst = append(dst, p.Value...)
				continue
			}
			dst = append(dst, '"')
			for k := 0; k < len(p.Value); k++ {
				if c := p.Value[k]; c == '"' || c == '\\' {
					dst = append(dst, '\\')
				}
				dst = append(dst, p.Value[k])
			}
			dst = append(dst, '"')
		}
	}
	return dst
}

// FormatExtensions is AppendExtensions into a new string.
func FormatExtensions(exts []ExtensionOffer) string {
	return string(AppendExtensions(nil, exts))
}

// validExtensionOffers checks that exts can be sent: tokens for names and
// parameter names, and nothing that could break the header line.
func validExtensionOffers(exts []ExtensionOffer) bool {
	for _, e := range exts {
		if !isToken(e.Name) {
			return false
		}
		for _, p := range e.Params {
			if !isToken(p.Name) || !validFieldValue(p.Value) {
				return false
			}
		}
	}
	return true
}

// extensionNamesOffered reports whether the extension header value v is well
// formed and names only extensions present in offers (RFC 6455 §9.1: a server
// answers with extensions the client asked for).
func extensionNamesOffered(v string, offers []ExtensionOffer) bool {
	sc := extScanner{s: v}
	for {
		name := sc.name()
		for {
			if _, _, ok := sc.param(); !ok {
				break
			}
		}
		if sc.bad || !offered(offers, name) {
			return false
		}
		if !sc.more() {
			return !sc.bad
		}
	}
}

func offered(offers []ExtensionOffer, name string) bool {
	for _, o := range offers {
		if o.Name == name {
			return true
		}
	}
	return false
}
