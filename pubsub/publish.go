package pubsub

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

// Publish sends payload to the connections here subscribed to topic (by name
// or by a matching pattern), each once, and with a Bridge to the other nodes.
// The message is framed once, and compressed at most once per deflate window
// size, for all receivers (engine.PreparedMessage); payload is not kept. It
// returns how many local connections took the message: a receiver over its
// write buffer gets the engine's WriteBufferPolicy and is not counted (see
// Stats.Dropped); the error is about the publish itself (ErrInvalidTopic,
// ErrWildcardPublish, ErrOpcode, ErrInvalidUTF8, ErrHubClosed) or the
// bridge's. The bridge gets the message before the local fan-out, so other
// nodes do not wait for this node's writes (Bridge.Publish only queues).
func (h *Hub) Publish(topic string, op frame.Opcode, payload []byte) (int, error) {
	if err := h.checkPublish(topic, op, payload); err != nil {
		return 0, err
	}
	h.published.Add(1)
	berr := h.toBridge(topic, op, payload) // first: see Publish
	return h.deliver(topic, nil, op, payload), berr
}

// PublishPrepared is Publish of a message already prepared, for a message
// sent to several topics or again: steady state, it allocates nothing.
func (h *Hub) PublishPrepared(topic string, pm *engine.PreparedMessage) (int, error) {
	op, payload := pm.Opcode(), pm.Payload()
	if err := h.checkPublish(topic, op, payload); err != nil {
		return 0, err
	}
	h.published.Add(1)
	berr := h.toBridge(topic, op, payload) // first: see Publish
	return h.deliver(topic, pm, op, payload), berr
}

func (h *Hub) checkPublish(topic string, op frame.Opcode, payload []byte) error {
	if h.closed.Load() {
		return ErrHubClosed
	}
	wild, err := checkName(topic, h.cfg.MaxTopicLen, h.cfg.MaxTokens)
	switch {
	case err != nil:
		return err
	case wild:
		return ErrWildcardPublish
	case op != frame.OpText && op != frame.OpBinary:
		return ErrOpcode
	case op == frame.OpText && !utf8.Valid(payload):
		return ErrInvalidUTF8
	}
	return nil
}

func (h *Hub) toBridge(topic string, op frame.Opcode, payload []byte) error {
	b := h.cfg.Bridge
	if b == nil {
		return nil
	}
	if err := b.Publish(topic, op, payload); err != nil {
		h.bridgeErrs.Add(1)
		return err
	}
	// A bridge's Publish only queues (see Bridge): its sender goroutine was
	// just made runnable on this P (runnext), where it waits until this
	// goroutine blocks, and the local fan-out that follows writes to every
	// receiver without blocking. Yield once so that it sends first: in a
	// runtime trace of the benchmark's node A (100 local receivers, 2 cores)
	// the NATS write came 0.9 ms after the publish, right after the
	// fan-out's last write; with the yield, 66 µs after, before the fan-out.
	// Cost: one pass through the scheduler per bridged publish.
	runtime.Gosched()
	return nil
}

// fromBridge is the deliver func given to Bridge.Start: a publish from another
// node, fanned out here and not sent back. Its bytes come off the network, so
// they get the same checks as a local publish; what fails them is dropped,
// and the error tells the bridge so (Bridge.Start).
func (h *Hub) fromBridge(topic string, op frame.Opcode, payload []byte) error {
	if err := h.checkPublish(topic, op, payload); err != nil {
		return err
	}
	h.remote.Add(1)
	h.deliver(topic, nil, op, payload)
	return nil
}

// Receivers returns the number of connections a publish to topic would reach
// now: subscribers of the topic and of the patterns matching it, each once.
func (h *Hub) Receivers(topic string) int {
	if wild, err := checkName(topic, h.cfg.MaxTopicLen, h.cfg.MaxTokens); err != nil || wild {
		return 0
	}
	var sc *scratch
	n := len(h.receivers(topic, &sc))
	sc.release()
	return n
}

// scratch is a publish's working space when patterns are involved, pooled so
// that a steady-state publish allocates nothing.
type scratch struct {
	sets  []*subSet
	conns []*engine.Conn
	seen  map[*engine.Conn]struct{}
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{seen: make(map[*engine.Conn]struct{})}
}}

func (sc *scratch) release() {
	if sc == nil {
		return
	}
	clear(sc.sets)
	clear(sc.conns)
	clear(sc.seen)
	sc.sets, sc.conns = sc.sets[:0], sc.conns[:0]
	scratchPool.Put(sc)
}

// receivers returns topic's receivers: the exact topic's list as it is when
// no pattern matches (the fast path: one shard lookup, no copy), else the
// union in *sc, which the caller releases after use.
func (h *Hub) receivers(topic string, sc **scratch) []*engine.Conn {
	var list []*engine.Conn
	if s, g := h.exact.lookup(topic); s != nil {
		list = s.list(g)
	}
	if h.wild.n.Load() == 0 {
		return list // no pattern anywhere: one atomic load is all they cost
	}
	x := scratchPool.Get().(*scratch)
	*sc = x
	h.wild.mu.RLock()
	x.sets = h.wild.root.match(topic, x.sets[:0])
	h.wild.mu.RUnlock()
	switch {
	case len(x.sets) == 0:
		return list
	case len(x.sets) == 1 && len(list) == 0:
		return x.sets[0].list(&h.wild.mu)
	}
	// A connection subscribed to the topic and to a pattern, or to two
	// patterns, gets the message once.
	add := func(l []*engine.Conn) {
		for _, c := range l {
			if _, dup := x.seen[c]; !dup {
				x.seen[c] = struct{}{}
				x.conns = append(x.conns, c)
			}
		}
	}
	add(list)
	for _, s := range x.sets {
		add(s.list(&h.wild.mu))
	}
	return x.conns
}

// deliver writes the message to topic's receivers here; pm is made from op
// and payload when nil and there is someone to send it to.
func (h *Hub) deliver(topic string, pm *engine.PreparedMessage, op frame.Opcode, payload []byte) int {
	var sc *scratch
	list := h.receivers(topic, &sc)
	n := 0
	if len(list) > 0 {
		if pm == nil {
			pm = engine.NewPreparedMessage(op, payload)
		}
		n = h.fan(list, pm)
	}
	sc.release()
	return n
}

// fan writes pm to every connection of list and returns how many took it.
// WritePrepared never blocks: a slow receiver gets its policy (error, drop,
// close) and the loop goes on to the next.
func (h *Hub) fan(list []*engine.Conn, pm *engine.PreparedMessage) int {
	var n int
	if p := h.cfg.ParallelFanout; p > 0 && len(list) >= p && runtime.GOMAXPROCS(0) > 1 {
		n = fanParallel(list, pm, p)
	} else {
		n = fanSerial(list, pm)
	}
	h.delivered.Add(uint64(n))
	if d := len(list) - n; d > 0 {
		h.dropped.Add(uint64(d))
	}
	return n
}

// fanSerial writes pm to list on this goroutine: batched, one system call
// per batch of receivers where the engine can (engine.WritePreparedMany).
func fanSerial(list []*engine.Conn, pm *engine.PreparedMessage) int {
	return engine.WritePreparedMany(list, pm)
}

// fanParallel splits list into contiguous parts of at least p/2 receivers,
// one per goroutine up to GOMAXPROCS, the caller taking the first. It returns
// when all are written, so the publishes of one goroutine stay in order on
// every connection.
func fanParallel(list []*engine.Conn, pm *engine.PreparedMessage, p int) int {
	parts := min(runtime.GOMAXPROCS(0), len(list)/max(p/2, 1))
	if parts < 2 {
		return fanSerial(list, pm)
	}
	var (
		wg    sync.WaitGroup
		total atomic.Int64
	)
	size := (len(list) + parts - 1) / parts
	for lo := size; lo < len(list); lo += size {
		part := list[lo:min(lo+size, len(list))]
		wg.Go(func() { total.Add(int64(fanSerial(part, pm))) })
	}
	n := fanSerial(list[:size], pm)
	wg.Wait()
	return n + int(total.Load())
}
