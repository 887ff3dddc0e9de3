package natsbridge

import (
	"strings"
	"unicode/utf8"

	"github.com/weir-ws/weir/frame"
)

// maxSubject bounds a subject (prefix, dot and topic). NATS limits a protocol
// line (MSG subject sid size) to 4096 bytes by default (max_control_line); a
// quarter of that leaves room for the rest of the line and keeps per-topic
// state small.
const maxSubject = 1024

// Envelope bytes: the first byte of a bridged message's data says what the
// rest is. ASCII letters, so that a plain NATS client can publish to weir
// subscribers (`nats pub weir.chat 'thello'`).
const (
	envText   = 't' // the rest is a text message's payload (RFC 6455 5.6: UTF-8)
	envBinary = 'b' // the rest is a binary message's payload
)

// validSubject reports whether s is a NATS subject this bridge sends or
// subscribes to: dot-separated non-empty tokens without whitespace or control
// bytes; with wild, "*" may stand for any one token and ">" as the last token
// for one or more, as in pubsub's patterns; without it no token may be "*"
// or ">" (a publish names one topic).
func validSubject(s string, wild bool) bool {
	if s == "" || len(s) > maxSubject {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			c := s[i]
			if c <= ' ' || c == 0x7f {
				return false
			}
			if c != '.' {
				continue
			}
		}
		tok := s[start:i]
		switch {
		case tok == "":
			return false
		case tok == "*" || tok == ">":
			if !wild || (tok == ">" && i != len(s)) {
				return false
			}
		}
		start = i + 1
	}
	return true
}

// isWild reports whether the valid pattern p has a wildcard token.
func isWild(p string) bool {
	for tok := range strings.SplitSeq(p, ".") {
		if tok == "*" || tok == ">" {
			return true
		}
	}
	return false
}

// match reports whether the literal subject s matches the valid pattern p
// (NATS rules: "*" one token, a final ">" one or more). It does not allocate.
func match(p, s string) bool {
	for {
		pt, prest, pmore := strings.Cut(p, ".")
		if pt == ">" {
			return s != ""
		}
		st, srest, smore := strings.Cut(s, ".")
		if s == "" || (pt != "*" && pt != st) {
			return false
		}
		if !pmore || !smore {
			return pmore == smore
		}
		p, s = prest, srest
	}
}

// encode appends the envelope of a message to dst.
func encode(dst []byte, op frame.Opcode, payload []byte) []byte {
	b := byte(envBinary)
	if op == frame.OpText {
		b = envText
	}
	return append(append(dst, b), payload...)
}

// decode reads an envelope: ok is false for anything this bridge did not
// write (no or unknown type byte, a text payload that is not UTF-8, which a
// WebSocket peer would have to fail with 1007, RFC 6455 8.1).
func decode(data []byte) (op frame.Opcode, payload []byte, ok bool) {
	if len(data) == 0 {
		return 0, nil, false
	}
	switch data[0] {
	case envText:
		if !utf8.Valid(data[1:]) {
			return 0, nil, false
		}
		return frame.OpText, data[1:], true
	case envBinary:
		return frame.OpBinary, data[1:], true
	}
	return 0, nil, false
}
