package pubsub

import "strings"

// Names are tokens separated by '.', as in NATS subjects: "*" as a whole token
// matches any one token, ">" as the last token matches one or more tokens. A
// '*' or '>' inside a longer token is an ordinary byte.

const (
	sep      = '.'
	starTok  = "*"
	tailTok  = ">"
	firstBad = 0x21 // bytes below (space, controls) and DEL are refused
)

// checkName validates a topic or pattern name against the limits and reports
// whether it is a pattern. The bounds come first: the name may be a client's.
func checkName(name string, maxLen, maxTokens int) (wild bool, err error) {
	if len(name) == 0 || len(name) > maxLen {
		return false, ErrInvalidTopic
	}
	tokens, start := 0, 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) {
			b := name[i]
			if b != sep {
				if b < firstBad || b == 0x7f {
					return false, ErrInvalidTopic
				}
				continue
			}
		}
		tok := name[start:i]
		tokens++
		switch {
		case tok == "" || tokens > maxTokens:
			return false, ErrInvalidTopic
		case tok == starTok:
			wild = true
		case tok == tailTok:
			if i != len(name) {
				return false, ErrInvalidTopic
			}
			wild = true
		}
		start = i + 1
	}
	return wild, nil
}

// nextToken splits s at its first '.': the token, what follows it, and
// whether anything does.
func nextToken(s string) (tok, rest string, more bool) {
	if i := strings.IndexByte(s, sep); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// Match reports whether topic, a valid name without wildcards, is matched by
// pattern, a valid name that may have them. It is the definition the Hub's
// pattern tree implements (and is tested against).
func Match(pattern, topic string) bool {
	for {
		ptok, prest, pmore := nextToken(pattern)
		ttok, trest, tmore := nextToken(topic)
		switch {
		case ptok == tailTok && !pmore:
			return true // at least one token is left in topic: ttok
		case ptok != starTok && ptok != ttok:
			return false
		case !pmore || !tmore:
			return pmore == tmore
		}
		pattern, topic = prest, trest
	}
}
