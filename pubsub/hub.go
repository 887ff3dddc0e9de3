package pubsub

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/weir-ws/weir/engine"
)

// Hub is a topic index over engine connections (see the package doc).
type Hub struct {
	cfg    Config
	exact  exactIndex
	wild   wildIndex
	conns  sync.Map // *engine.Conn -> *connState
	nconns atomic.Int64
	closed atomic.Bool

	// Interest sent to the bridge, reconciled under imu (interest.go).
	imu  sync.Mutex
	told map[string]struct{}

	published, remote, delivered, dropped, bridgeErrs atomic.Uint64
}

// connState is one connection's subscriptions. mu orders a connection's
// subscribes against its unsubscribes and its close: subs and the index
// change together under mu (taken before any index lock), except in drop,
// whose removals follow closed, after which nothing is added.
//
// The connection's close hook holds its connState, not the Hub, and drop
// clears hub: a hook that runs after Hub.Close (which takes the hooks back,
// unhook, but may race a close) neither keeps the Hub, its indexes and its
// bridge reachable nor touches them.
type connState struct {
	c      *engine.Conn
	mu     sync.Mutex
	closed bool
	hub    *Hub        // nil once dropped
	unhook func() bool // takes the close hook back (Hub.Close); set under mu
	subs   map[string]*subSet
}

// ended is the connection's AfterClose hook.
func (cs *connState) ended(*engine.Conn) {
	cs.mu.Lock()
	h := cs.hub
	cs.mu.Unlock()
	if h != nil {
		h.drop(cs, true)
	}
}

// New makes a Hub and starts cfg.Bridge, if any (nil cfg: defaults).
func New(cfg *Config) (*Hub, error) {
	h := &Hub{cfg: cfg.withDefaults(), told: make(map[string]struct{})}
	h.exact.init()
	h.wild.init()
	if b := h.cfg.Bridge; b != nil {
		if err := b.Start(h.fromBridge); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Close stops the Hub: it closes the bridge, drops every subscription, and
// makes Subscribe and Publish return ErrHubClosed. The connections stay open.
func (h *Hub) Close() error {
	if h.closed.Swap(true) {
		return nil
	}
	var err error
	if b := h.cfg.Bridge; b != nil {
		err = b.Close()
	}
	h.conns.Range(func(_, v any) bool {
		cs := v.(*connState)
		h.drop(cs, false)
		cs.mu.Lock()
		unhook := cs.unhook
		cs.mu.Unlock()
		if unhook != nil { // nil: state has not set it yet, and its hook will find cs dropped
			unhook() // the connection may live on: it keeps nothing of this Hub
		}
		return true
	})
	return err
}

// Subscribe adds c to the subscribers of name, a topic or a pattern
// ("news.*", "news.>"). Subscribing twice to one name is one subscription.
// It returns ErrConnClosed once c has closed: a Hub never keeps a closed
// connection, whether or not the application unsubscribes it.
func (h *Hub) Subscribe(c *engine.Conn, name string) error {
	if h.closed.Load() {
		return ErrHubClosed
	}
	wild, err := checkName(name, h.cfg.MaxTopicLen, h.cfg.MaxTokens)
	if err != nil {
		return err
	}
	cs, err := h.state(c)
	if err != nil {
		return err
	}
	cs.mu.Lock()
	if cs.closed {
		cs.mu.Unlock()
		if h.closed.Load() {
			return ErrHubClosed // Close dropped cs
		}
		return ErrConnClosed
	}
	if _, ok := cs.subs[name]; ok {
		cs.mu.Unlock()
		return nil
	}
	if max := h.cfg.MaxTopicsPerConn; max > 0 && len(cs.subs) >= max {
		cs.mu.Unlock()
		return ErrTooManyTopics
	}
	var s *subSet
	var first bool
	if wild {
		s, first = h.wild.add(name, cs)
	} else {
		s, first = h.exact.add(name, cs)
	}
	cs.subs[s.name] = s // the set's copy of name (newSet)
	cs.mu.Unlock()
	if h.closed.Load() {
		// Close ran meanwhile and may have missed this subscription.
		h.drop(cs, false)
		return ErrHubClosed
	}
	if first {
		h.reconcile(s.name, wild)
	}
	return nil
}

// state returns c's connState, making it and hooking c's close on first use.
func (h *Hub) state(c *engine.Conn) (*connState, error) {
	if v, ok := h.conns.Load(c); ok {
		return v.(*connState), nil
	}
	cs := &connState{c: c, hub: h, subs: make(map[string]*subSet)}
	if v, loaded := h.conns.LoadOrStore(c, cs); loaded {
		return v.(*connState), nil
	}
	h.nconns.Add(1)
	unhook, ok := c.AfterCloseFunc(cs.ended)
	cs.mu.Lock()
	cs.unhook = unhook
	cs.mu.Unlock()
	if !ok {
		// Closed already: its hooks ran. A Subscribe that found cs meanwhile
		// may have added to it; drop undoes that too.
		h.drop(cs, true)
		return nil, ErrConnClosed
	}
	return cs, nil
}

// drop ends cs: no more subscriptions, and those it had are removed.
func (h *Hub) drop(cs *connState, interest bool) {
	cs.mu.Lock()
	if cs.closed {
		cs.mu.Unlock()
		return
	}
	cs.closed = true
	cs.hub = nil // releases the Hub from c's close hook
	subs := cs.subs
	cs.subs = nil
	cs.mu.Unlock()
	if h.conns.CompareAndDelete(cs.c, cs) {
		h.nconns.Add(-1)
	}
	for name, s := range subs {
		if h.removeFrom(s, cs) && interest {
			h.reconcile(name, s.wild)
		}
	}
}

func (h *Hub) removeFrom(s *subSet, cs *connState) bool {
	if s.wild {
		return h.wild.remove(s, cs)
	}
	return h.exact.remove(s, cs)
}

// Unsubscribe removes c from the subscribers of name (as given to Subscribe)
// and reports whether it was one.
func (h *Hub) Unsubscribe(c *engine.Conn, name string) bool {
	v, ok := h.conns.Load(c)
	if !ok {
		return false
	}
	cs := v.(*connState)
	// The index changes under cs.mu, as in Subscribe: a Subscribe of name
	// that ran between the two would find cs still in s, and this removal
	// would then take out the subscription it had just kept.
	cs.mu.Lock()
	s, ok := cs.subs[name]
	last := false
	if ok {
		delete(cs.subs, name)
		last = h.removeFrom(s, cs)
	}
	cs.mu.Unlock()
	if last {
		h.reconcile(s.name, s.wild)
	}
	return ok
}

// UnsubscribeAll removes all of c's subscriptions and returns how many there
// were. c stays known to the Hub (its close hook is set) until it closes.
func (h *Hub) UnsubscribeAll(c *engine.Conn) int {
	v, ok := h.conns.Load(c)
	if !ok {
		return 0
	}
	cs := v.(*connState)
	cs.mu.Lock()
	if cs.closed {
		cs.mu.Unlock()
		return 0
	}
	subs, n := cs.subs, len(cs.subs)
	cs.subs = make(map[string]*subSet)
	// Under cs.mu, as in Unsubscribe; the sets left empty are reconciled
	// after, outside it.
	for name, s := range subs {
		if !h.removeFrom(s, cs) {
			delete(subs, name)
		}
	}
	cs.mu.Unlock()
	for name, s := range subs {
		h.reconcile(name, s.wild)
	}
	return n
}

// Subscribers returns the number of connections subscribed to name itself
// (a topic, or a pattern as written); see Receivers for who a publish reaches.
func (h *Hub) Subscribers(name string) int {
	wild, err := checkName(name, h.cfg.MaxTopicLen, h.cfg.MaxTokens)
	if err != nil {
		return 0
	}
	if wild {
		h.wild.mu.RLock()
		defer h.wild.mu.RUnlock()
		if s := h.wild.byName[name]; s != nil {
			return len(s.live)
		}
		return 0
	}
	sh := h.exact.shard(name)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if s := sh.m[name]; s != nil {
		return len(s.live)
	}
	return 0
}

// Topics returns c's subscriptions (names and patterns), sorted.
func (h *Hub) Topics(c *engine.Conn) []string {
	v, ok := h.conns.Load(c)
	if !ok {
		return nil
	}
	cs := v.(*connState)
	cs.mu.Lock()
	names := make([]string, 0, len(cs.subs))
	for name := range cs.subs {
		names = append(names, name)
	}
	cs.mu.Unlock()
	slices.Sort(names)
	return names
}

// NumTopics returns the number of c's subscriptions.
func (h *Hub) NumTopics(c *engine.Conn) int {
	v, ok := h.conns.Load(c)
	if !ok {
		return 0
	}
	cs := v.(*connState)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.subs)
}

// Stats are a Hub's counters.
type Stats struct {
	Topics   int // exact topics with at least one subscriber
	Patterns int // wildcard patterns with at least one subscriber
	Conns    int // connections the Hub knows (subscribed once, not yet closed)

	Published uint64 // publishes made on this node
	Remote    uint64 // publishes delivered by the bridge
	Delivered uint64 // messages the engine took, one per receiving connection
	// Dropped counts writes the engine refused: the receiver's write buffer
	// policy (error, drop, close) or a receiver already closing.
	Dropped      uint64
	BridgeErrors uint64 // Bridge.Publish errors
}

// Stats returns the Hub's counters.
func (h *Hub) Stats() Stats {
	return Stats{
		Topics:       int(h.exact.n.Load()),
		Patterns:     int(h.wild.n.Load()),
		Conns:        int(h.nconns.Load()),
		Published:    h.published.Load(),
		Remote:       h.remote.Load(),
		Delivered:    h.delivered.Load(),
		Dropped:      h.dropped.Load(),
		BridgeErrors: h.bridgeErrs.Load(),
	}
}
