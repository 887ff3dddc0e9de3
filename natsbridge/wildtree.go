package natsbridge

import "strings"

// wildTree holds the subscribed wildcard subjects as paths of their tokens
// from the root, as pubsub's pattern tree does, so that owns picks the copy
// to deliver in one walk along the message's subject: its cost is the nodes
// on paths that match the subject so far, not the number of patterns. A
// scan of every pattern (as owns first did) let clients that hold many
// patterns, matching nothing (which costs NATS nothing), make every copy
// from NATS cost milliseconds on the one delivering goroutine
// (BenchmarkOwnsManyPatterns). Changed under Bridge.mu.
type wildTree struct {
	next map[string]*wildTree // literal tokens
	star *wildTree            // "*"
	tail string               // the subject with ">" as its next token, if any
	end  string               // the subject that ends here, if any
}

func (n *wildTree) empty() bool {
	return len(n.next) == 0 && n.star == nil && n.tail == "" && n.end == ""
}

// insert adds p, a valid pattern with a wildcard.
func (n *wildTree) insert(p string) {
	rest := p
	for {
		tok, r, more := strings.Cut(rest, ".")
		if tok == ">" && !more {
			n.tail = p
			return
		}
		var c *wildTree
		if tok == "*" {
			if n.star == nil {
				n.star = &wildTree{}
			}
			c = n.star
		} else {
			if n.next == nil {
				n.next = make(map[string]*wildTree)
			}
			if c = n.next[tok]; c == nil {
				c = &wildTree{}
				n.next[tok] = c
			}
		}
		if !more {
			c.end = p
			return
		}
		n, rest = c, r
	}
}

// remove takes p out, with the nodes it leaves empty, and reports whether n
// itself is now empty.
func (n *wildTree) remove(p string) bool {
	tok, rest, more := strings.Cut(p, ".")
	if tok == ">" && !more {
		n.tail = ""
		return n.empty()
	}
	c := n.star
	if tok != "*" {
		c = n.next[tok]
	}
	if c == nil {
		return n.empty()
	}
	var gone bool
	if more {
		gone = c.remove(rest)
	} else {
		c.end = ""
		gone = c.empty()
	}
	if gone {
		if tok == "*" {
			n.star = nil
		} else {
			delete(n.next, tok)
		}
	}
	return n.empty()
}

// first returns the pattern that delivers a message on subject s: of those
// held that match s, the first in the walk that takes, token by token, the
// literal, then "*", then ">"; "" when none matches. Every node is visited
// at most once.
func (n *wildTree) first(s string) string {
	tok, rest, more := strings.Cut(s, ".")
	if c := n.next[tok]; c != nil {
		if p := c.firstAfter(rest, more); p != "" {
			return p
		}
	}
	if n.star != nil {
		if p := n.star.firstAfter(rest, more); p != "" {
			return p
		}
	}
	return n.tail // ">" takes tok and whatever follows
}

func (n *wildTree) firstAfter(rest string, more bool) string {
	if !more {
		return n.end
	}
	return n.first(rest)
}
