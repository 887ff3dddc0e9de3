package upgrade

import (
	"strings"
	"unsafe"
)

// Byte classes used by the scanners, one table lookup per byte.
const (
	cTchar  = 1 << iota // tchar, RFC 7230 §3.2.6
	cField              // field-vchar, SP or HTAB (RFC 7230 §3.2); obs-text included
	cTarget             // request-target bytes we accept: VCHAR except '#'
	cHost               // Host header bytes (reg-name, IP literal, port)
	cB64                // base64 alphabet without '=' (RFC 4648 §4)
	cHex                // HEXDIG
)

var class = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		alnum := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
		if alnum || indexByte("!#$%&'*+-.^_`|~", b) {
			t[c] |= cTchar
		}
		if b == ' ' || b == '\t' || (0x21 <= b && b != 0x7f) {
			t[c] |= cField
		}
		if 0x21 <= b && b <= 0x7e && b != '#' {
			t[c] |= cTarget
		}
		if alnum || indexByte("-._~!$&'()*+,;=:[]%", b) {
			t[c] |= cHost
		}
		if alnum || b == '+' || b == '/' {
			t[c] |= cB64
		}
		if '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F' {
			t[c] |= cHex
		}
	}
	return t
}()

func indexByte(s string, b byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return true
		}
	}
	return false
}

// isToken reports whether s is a non-empty RFC 7230 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if class[s[i]]&cTchar == 0 {
			return false
		}
	}
	return true
}

// validFieldValue reports whether s may be sent as a header value: no CTL but HTAB,
// so no CR or LF can split the header (RFC 7230 §3.2).
func validFieldValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if class[s[i]]&cField == 0 {
			return false
		}
	}
	return true
}

func isOWS(c byte) bool { return c == ' ' || c == '\t' }

// trimOWS strips optional whitespace (RFC 7230 §3.2.3) from both ends.
func trimOWS(s string) string {
	for len(s) > 0 && isOWS(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isOWS(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFold compares ASCII strings case-insensitively; header names and the
// tokens compared here are ASCII, so this avoids strings.EqualFold's Unicode path.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] && lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// maxEmptyListElements is how many empty elements one list-valued field may
// hold. RFC 9110 §5.6.1: a recipient MUST parse and ignore "a reasonable
// number of empty list elements" (what senders joining lists leave, as in
// ", a" or "a, , b"); past the bound the value is refused as malformed, so a
// field of commas costs one pass and gets the field's 400.
const maxEmptyListElements = 16

// hasToken reports whether the comma-separated list (RFC 9110 §5.6.1)
// contains tok, compared case-insensitively; empty elements are ignored, and
// more than maxEmptyListElements of them make it false.
func hasToken(list, tok string) bool {
	empty := 0
	for {
		elem, rest, more := strings.Cut(list, ",")
		if elem = trimOWS(elem); elem == "" {
			if empty++; empty > maxEmptyListElements {
				return false
			}
		} else if equalFold(elem, tok) {
			return true
		}
		if !more {
			return false
		}
		list = rest
	}
}

// soleToken reports whether the comma-separated list holds tok (any case) as
// its one non-empty element, empty elements ignored within the bound of
// hasToken (RFC 9110 §5.6.1).
func soleToken(list, tok string) bool {
	empty, found := 0, false
	for {
		elem, rest, more := strings.Cut(list, ",")
		if elem = trimOWS(elem); elem == "" {
			if empty++; empty > maxEmptyListElements {
				return false
			}
		} else if found || !equalFold(elem, tok) {
			return false
		} else {
			found = true
		}
		if !more {
			return found
		}
		list = rest
	}
}

// cutByte splits s around the first c; rest is "" when c is absent.
func cutByte(s string, c byte) (before, rest string) {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// bstr views b as a string without copying. The string is only as stable as b:
// every view handed out by Request and Response is documented as valid only
// while the scanned buffer is.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// aliases reports whether s points into b, so a value that must outlive the
// buffer can be copied only when needed.
func aliases(s string, b []byte) bool {
	if len(s) == 0 || cap(b) == 0 {
		return false
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return p >= start && p < start+uintptr(cap(b))
}

// rebase moves s, when it is a view of old, to the same bytes in nb (a copy of
// old); other strings are returned as they are.
func rebase(s string, old, nb []byte) string {
	if !aliases(s, old) {
		return s
	}
	off := int(uintptr(unsafe.Pointer(unsafe.StringData(s))) - uintptr(unsafe.Pointer(unsafe.SliceData(old))))
	if off+len(s) > len(nb) {
		return strings.Clone(s) // past the block: never expected, but stay correct
	}
	return bstr(nb[off : off+len(s)])
}
