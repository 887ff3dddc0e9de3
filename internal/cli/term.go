package cli

import (
	"strings"
	"unicode/utf8"
)

// termSafe returns s with what a terminal would obey rather than show written
// as escapes: C0 controls but tab (and newline when keepNewline), DEL, C1
// controls (U+0080-U+009F: xterm and others take U+009B as CSI) and bytes that
// are not UTF-8 (\x1b, \u009b, \xff; CR is \x0d). What a server sends reaches a person's
// terminal through weir cat; ESC sequences there can rewrite the screen, set
// the clipboard (OSC 52) or make some terminals answer into stdin. s comes
// back as it is when it holds none (no allocation).
func termSafe(s string, keepNewline bool) string {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, n, keepNewline) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case !unsafeRune(r, n, keepNewline):
			b.WriteString(s[i : i+n])
		case n == 1: // an ASCII control, DEL, or a byte that is not UTF-8
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
		default:
			b.WriteString(`\u00`)
			b.WriteString(hex2(byte(r)))
		}
		i += n
	}
	return b.String()
}

func unsafeRune(r rune, n int, keepNewline bool) bool {
	switch {
	case r == utf8.RuneError && n == 1:
		return true // not UTF-8
	case r == '\t', r == '\n' && keepNewline:
		return false
	}
	return r < 0x20 || r >= 0x7f && r <= 0x9f
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}
