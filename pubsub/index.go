package pubsub

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/cpu"

	"github.com/weir-ws/weir/engine"
)

// subSet is the connections subscribed to one name (a topic or a pattern).
// live changes under the lock of the index that holds the set (its shard's,
// or the pattern tree's); snap is an immutable list of live that publishes
// read with no lock. A change drops snap, and the next publish rebuilds it
// (once, whatever the number of changes in between): a subscribe costs O(1),
// a publish after changes O(subscribers), a steady-state publish nothing.
type subSet struct {
	name string
	wild bool // a pattern: held by the wildIndex
	live map[*connState]struct{}
	snap atomic.Pointer[[]*engine.Conn]
}

// newSet copies name: the index keeps it (as the set's, its shard's or
// pattern tree's key and the connection's) for as long as it has
// subscribers, and a name from a client is often a substring of the message
// that carried it, which it would keep whole.
func newSet(name string, wild bool) *subSet {
	return &subSet{name: strings.Clone(name), wild: wild, live: make(map[*connState]struct{})}
}

// list returns the set's connections. guard is the lock under which live
// changes: a rebuild holds it for reading, so no change slips between the
// copy and its publication.
func (s *subSet) list(guard *sync.RWMutex) []*engine.Conn {
	if p := s.snap.Load(); p != nil {
		return *p
	}
	guard.RLock()
	defer guard.RUnlock()
	if p := s.snap.Load(); p != nil {
		return *p
	}
	l := make([]*engine.Conn, 0, len(s.live))
	for cs := range s.live {
		l = append(l, cs.c)
	}
	s.snap.Store(&l)
	return l
}

// add and remove change live under the guard's write lock.
func (s *subSet) add(cs *connState) (first bool) {
	s.live[cs] = struct{}{}
	s.snap.Store(nil)
	return len(s.live) == 1
}

func (s *subSet) remove(cs *connState) (last bool) {
	delete(s.live, cs)
	s.snap.Store(nil)
	return len(s.live) == 0
}

// numShards spreads exact topics over locks, so that subscribes to different
// topics do not queue on one lock, nor publishes on one reader count.
const numShards = 64

// shard holds the exact topics whose hash falls in it.
type shard struct {
	mu sync.RWMutex
	m  map[string]*subSet
	_  cpu.CacheLinePad // keep neighbouring shards' locks off one cache line
}

// exactIndex maps topic names to their sets.
type exactIndex struct {
	seed   maphash.Seed
	shards [numShards]shard
	n      atomic.Int64 // topics with subscribers
}

func (x *exactIndex) init() {
	x.seed = maphash.MakeSeed()
	for i := range x.shards {
		x.shards[i].m = make(map[string]*subSet)
	}
}

func (x *exactIndex) shard(name string) *shard {
	return &x.shards[maphash.String(x.seed, name)%numShards]
}

// lookup returns topic's set and its guard, or nil.
func (x *exactIndex) lookup(topic string) (*subSet, *sync.RWMutex) {
	sh := x.shard(topic)
	sh.mu.RLock()
	s := sh.m[topic]
	sh.mu.RUnlock()
	return s, &sh.mu
}

func (x *exactIndex) add(name string, cs *connState) (*subSet, bool) {
	sh := x.shard(name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.m[name]
	if s == nil {
		s = newSet(name, false)
		sh.m[s.name] = s
		x.n.Add(1)
	}
	return s, s.add(cs)
}

func (x *exactIndex) remove(s *subSet, cs *connState) bool {
	sh := x.shard(s.name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	last := s.remove(cs)
	if last && sh.m[s.name] == s {
		delete(sh.m, s.name)
		x.n.Add(-1)
	}
	return last
}

// node is one level of the pattern tree: a pattern's tokens are a path from
// the root. A publish walks the tree along its topic's tokens; every node is
// reached by one path only, so a walk visits each node at most once, and the
// depth is at most MaxTokens.
type node struct {
	next map[string]*node // literal tokens
	star *node            // "*"
	tail *subSet          // ">" as the last token here
	end  *subSet          // patterns that end at this node
}

func (n *node) empty() bool {
	return len(n.next) == 0 && n.star == nil && n.tail == nil && n.end == nil
}

// wildIndex holds the patterns; one lock, since patterns are fewer and change
// less than topics, and a publish takes it only for reading.
type wildIndex struct {
	mu     sync.RWMutex
	root   node
	byName map[string]*subSet
	n      atomic.Int64 // patterns with subscribers
}

func (w *wildIndex) init() { w.byName = make(map[string]*subSet) }

func (w *wildIndex) add(name string, cs *connState) (*subSet, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.byName[name]
	if s == nil {
		s = newSet(name, true)
		w.byName[s.name] = s
		w.insert(s.name, s)
		w.n.Add(1)
	}
	return s, s.add(cs)
}

func (w *wildIndex) remove(s *subSet, cs *connState) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	last := s.remove(cs)
	if last && w.byName[s.name] == s {
		delete(w.byName, s.name)
		prune(&w.root, s.name)
		w.n.Add(-1)
	}
	return last
}

// insert puts s at the end of pattern's path (under mu).
func (w *wildIndex) insert(pattern string, s *subSet) {
	n := &w.root
	for {
		tok, rest, more := nextToken(pattern)
		if tok == tailTok && !more {
			n.tail = s
			return
		}
		var c *node
		if tok == starTok {
			if n.star == nil {
				n.star = &node{}
			}
			c = n.star
		} else {
			if n.next == nil {
				n.next = make(map[string]*node)
			}
			if c = n.next[tok]; c == nil {
				c = &node{}
				n.next[tok] = c
			}
		}
		if !more {
			c.end = s
			return
		}
		n, pattern = c, rest
	}
}

// prune takes pattern's set out of the tree and drops the nodes left empty
// (under mu); it reports whether n itself is now empty.
func prune(n *node, pattern string) bool {
	tok, rest, more := nextToken(pattern)
	if tok == tailTok && !more {
		n.tail = nil
		return n.empty()
	}
	c := n.star
	if tok != starTok {
		c = n.next[tok]
	}
	if c == nil {
		return n.empty()
	}
	var gone bool
	if more {
		gone = prune(c, rest)
	} else {
		c.end = nil
		gone = c.empty()
	}
	if gone {
		if tok == starTok {
			n.star = nil
		} else {
			delete(n.next, tok)
		}
	}
	return n.empty()
}

// match appends to out the sets of the patterns under n that match topic, a
// valid name without wildcards (under mu, read).
func (n *node) match(topic string, out []*subSet) []*subSet {
	if n.tail != nil {
		out = append(out, n.tail) // topic has at least one token left
	}
	tok, rest, more := nextToken(topic)
	if c := n.next[tok]; c != nil {
		out = c.matchRest(rest, more, out)
	}
	if n.star != nil {
		out = n.star.matchRest(rest, more, out)
	}
	return out
}

func (n *node) matchRest(rest string, more bool, out []*subSet) []*subSet {
	if more {
		return n.match(rest, out)
	}
	if n.end != nil {
		out = append(out, n.end)
	}
	return out
}
