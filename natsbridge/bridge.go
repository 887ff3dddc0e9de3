package natsbridge

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/pubsub"
)

var _ pubsub.Bridge = (*Bridge)(nil)

// Errors returned by Start and Publish.
var (
	ErrClosed     = errors.New("natsbridge: bridge closed")
	ErrNotStarted = errors.New("natsbridge: bridge not started")
	ErrStarted    = errors.New("natsbridge: Start called twice")
	ErrTopic      = errors.New("natsbridge: topic is not a valid NATS subject")
	ErrOpcode     = errors.New("natsbridge: only text and binary messages are bridged")
	ErrTooLarge   = errors.New("natsbridge: message larger than MaxMessage")
	ErrQueueFull  = errors.New("natsbridge: send queue full")
	// ErrCloseTimeout: Close cut the connection after Config.CloseTimeout;
	// publishes still queued or unflushed then were lost.
	ErrCloseTimeout = errors.New("natsbridge: close timed out, connection cut")
)

// Bridge is a pubsub.Bridge over one NATS connection. Create it with New.
type Bridge struct {
	cfg     Config
	prefix  string // cfg.Prefix + "."
	maxMsg  int
	deliver func(topic string, op frame.Opcode, payload []byte) error

	nc     *nats.Conn
	dial   *cutDialer     // made nc's sockets; Close cuts them (dial.go)
	out    chan outMsg    // publishes for the sender goroutine
	in     chan *nats.Msg // messages from every upstream subscription
	done   chan struct{}  // closed by Close
	wg     sync.WaitGroup
	closed atomic.Bool
	// starting is set by the first Start (and cleared if it fails).
	starting atomic.Bool

	// The Hub's interest and the NATS subscriptions (interest.go).
	mu   sync.RWMutex
	subs map[string]*upstream // by subject (prefix included)
	wild wildTree             // subscribed subjects with a wildcard
	todo map[string]struct{}  // subjects for interestLoop to subscribe or not
	kick chan struct{}        // wakes interestLoop

	queued   atomic.Int64      // bytes in out
	subjects map[string]string // topic -> subject, owned by sendLoop
	st       counters
	pool     sync.Pool // *[]byte envelope buffers
}

// upstream is one subject's interest and its NATS subscription; it is kept
// while either is there, or while interestLoop works on it.
type upstream struct {
	sub  *nats.Subscription // nil until interestLoop subscribed
	want bool               // the Hub has interest now
	busy bool               // interestLoop is changing sub, outside mu
}

type outMsg struct {
	topic string
	buf   *[]byte
}

// New returns a bridge that connects when the Hub calls Start.
func New(cfg Config) *Bridge {
	cfg.fill()
	return &Bridge{
		cfg:      cfg,
		prefix:   cfg.Prefix + ".",
		subs:     make(map[string]*upstream),
		todo:     make(map[string]struct{}),
		kick:     make(chan struct{}, 1),
		subjects: make(map[string]string),
		done:     make(chan struct{}),
	}
}

// Start connects to NATS and starts the goroutines that send and deliver.
func (b *Bridge) Start(deliver func(topic string, op frame.Opcode, payload []byte) error) error {
	if b.closed.Load() {
		return ErrClosed
	}
	if !validSubject(b.cfg.Prefix, false) {
		return fmt.Errorf("%w: prefix %q", ErrTopic, b.cfg.Prefix)
	}
	if !b.starting.CompareAndSwap(false, true) {
		return ErrStarted
	}
	opts := []nats.Option{
		nats.Name(b.cfg.Name),
		// The bridge owns this connection, so the connection is the node:
		// the server's no-echo filter drops exactly this node's own
		// publishes, before they cost a byte on the wire (see doc.go).
		nats.NoEcho(),
		nats.MaxReconnects(b.cfg.MaxReconnects),
		nats.ReconnectWait(b.cfg.ReconnectWait),
		nats.ReconnectBufSize(b.cfg.ReconnectBuffer),
		// nats.go's 2-minute default would leave a silently dead server
		// unnoticed (and its messages lost) for minutes.
		nats.PingInterval(10 * time.Second),
		nats.MaxPingsOutstanding(2),
		nats.DisconnectErrHandler(b.onDisconnect),
		nats.ReconnectHandler(b.onReconnect),
		nats.ErrorHandler(b.onAsyncError),
	}
	o, err := natsOptions(b.cfg.URL, append(opts, b.cfg.Options...))
	if err != nil {
		b.starting.Store(false)
		return fmt.Errorf("natsbridge: options: %w", err)
	}
	// Behind whatever dialer the options chose, so that Close can cut the
	// socket of a stuck write (Config.CloseTimeout). A connection made by
	// nats.InProcessServer is not dialed, and Close cannot cut it.
	b.dial = newCutDialer(&o)
	o.CustomDialer = b.dial
	b.st.up.Store(true) // before any handler can say otherwise
	nc, err := o.Connect()
	if err != nil {
		b.st.up.Store(false)
		b.starting.Store(false) // Start may be tried again
		return fmt.Errorf("natsbridge: connect %s: %w", b.cfg.URL, err)
	}
	b.maxMsg = b.cfg.MaxMessage
	if limit := int(nc.MaxPayload()) - 1; b.maxMsg <= 0 || b.maxMsg > limit {
		b.maxMsg = limit
	}
	b.deliver = deliver
	b.out = make(chan outMsg, b.cfg.SendQueue)
	b.in = make(chan *nats.Msg, b.cfg.DeliverQueue)
	// A Close made while nats.go connected found no connection and
	// returned; checked under b.mu, which Close takes to look.
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		nc.Close()
		b.st.up.Store(false)
		return ErrClosed
	}
	b.nc = nc
	b.wg.Add(3)
	go b.sendLoop()
	go b.deliverLoop()
	go b.interestLoop()
	return nil
}

// Publish queues a local publish for the other nodes. It never waits on the
// network: a full queue refuses with ErrQueueFull (counted in SendDropped).
// One racing Close may return nil for a message Close then drops (counted in
// SendDropped too).
func (b *Bridge) Publish(topic string, op frame.Opcode, payload []byte) error {
	if b.closed.Load() {
		return ErrClosed
	}
	if b.nc == nil {
		return ErrNotStarted
	}
	if op != frame.OpText && op != frame.OpBinary {
		return ErrOpcode
	}
	if len(payload) > b.maxMsg {
		b.st.sendDropped.Add(1)
		return ErrTooLarge
	}
	// The prefix was checked by Start: prefix.topic is a valid subject if
	// topic is and the two fit in maxSubject together.
	if len(b.prefix)+len(topic) > maxSubject || !validSubject(topic, false) {
		return fmt.Errorf("%w: %q", ErrTopic, topic)
	}
	size := int64(len(payload) + 1)
	if b.queued.Add(size) > int64(b.cfg.SendQueueBytes) {
		b.queued.Add(-size)
		b.st.sendDropped.Add(1)
		return ErrQueueFull
	}
	buf := b.getBuf()
	*buf = encode((*buf)[:0], op, payload)
	return b.enqueue(outMsg{topic, buf}, size)
}

// enqueue puts m (size bytes of SendQueueBytes, taken by the caller) on the
// send queue, or refuses it when the queue is full. A Publish that found the
// bridge open may queue after Close began, and after the sender's last drain:
// then nothing would take m, so it empties the queue itself (the sender may
// take some first: each message is sent or dropped, counted either way).
func (b *Bridge) enqueue(m outMsg, size int64) error {
	select {
	case b.out <- m:
		if b.closed.Load() {
			b.dropQueued()
		}
		return nil
	default:
		b.queued.Add(-size)
		b.putBuf(m.buf)
		b.st.sendDropped.Add(1)
		return ErrQueueFull
	}
}

// dropQueued empties the send queue once Close has begun, counting what it
// held as dropped.
func (b *Bridge) dropQueued() {
	for {
		select {
		case m := <-b.out:
			b.queued.Add(-int64(len(*m.buf)))
			b.st.sendDropped.Add(1)
			b.putBuf(m.buf)
		default:
			return
		}
	}
}

// sendLoop hands queued publishes to nats.go, which copies them into its
// write buffer (or, while disconnected, into its reconnect buffer). On Close
// it sends what is already queued, then returns.
func (b *Bridge) sendLoop() {
	defer b.wg.Done()
	for {
		select {
		case m := <-b.out:
			b.send(m)
		case <-b.done:
			for {
				select {
				case m := <-b.out:
					b.send(m)
				default:
					return
				}
			}
		}
	}
}

func (b *Bridge) send(m outMsg) {
	b.queued.Add(-int64(len(*m.buf)))
	connected := b.nc.IsConnected()
	trace('s', *m.buf)
	err := b.nc.Publish(b.subject(m.topic), *m.buf)
	trace('p', *m.buf)
	if err != nil {
		// ErrReconnectBufExceeded while disconnected, ErrConnectionClosed
		// after the bridge gave up reconnecting, ErrMaxPayload if the
		// server lowered its limit after Start.
		b.st.sendDropped.Add(1)
	} else {
		b.st.sent.Add(1)
		if !connected {
			b.st.sentDisconnected.Add(1)
		}
	}
	b.putBuf(m.buf)
}

// subject returns prefix.topic from a cache owned by the sender goroutine,
// so that a topic published again costs no allocation. The cache is
// emptied when it reaches maxSubjects, which bounds it whatever topics
// come. Its key is the topic's part of the subject it made, not topic:
// a topic is often cut out of a client's message, and a key that shares
// its bytes would keep the whole message.
func (b *Bridge) subject(topic string) string {
	if s, ok := b.subjects[topic]; ok {
		return s
	}
	if len(b.subjects) >= maxSubjects {
		clear(b.subjects)
	}
	s := b.prefix + topic
	b.subjects[s[len(b.prefix):]] = s
	return s
}

const maxSubjects = 4096

// maxPooled keeps large envelopes out of the pool: one big publish must not
// pin its buffer for good.
const maxPooled = 64 << 10

func (b *Bridge) getBuf() *[]byte {
	if p, ok := b.pool.Get().(*[]byte); ok {
		return p
	}
	return new([]byte)
}

func (b *Bridge) putBuf(p *[]byte) {
	if cap(*p) <= maxPooled {
		b.pool.Put(p)
	}
}

// Close stops the bridge: publishes already queued are sent and flushed,
// the NATS connection is closed, and deliver is not called after Close
// returns. All that gets Config.CloseTimeout: past it Close cuts the
// connection's socket, which ends a write stuck on a server that stopped
// reading (nats.go would wait its FlusherTimeout, a minute by default),
// waits for its goroutines and nats.go's to end, and returns
// ErrCloseTimeout. Close is idempotent.
func (b *Bridge) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	close(b.done)
	b.mu.Lock()
	started := b.nc != nil // else Start closes what it makes (it sees closed)
	b.mu.Unlock()
	if !started {
		return nil
	}
	deadline := time.Now().Add(b.cfg.CloseTimeout)
	done := make(chan error, 1)
	go func() { done <- b.shutdown(deadline) }()
	timer := time.NewTimer(b.cfg.CloseTimeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
	}
	// Every nats.go call shutdown waits in fails once the socket is gone,
	// and the dialer refuses the reconnect nats.go then tries.
	b.dial.cutNow()
	<-done
	b.st.up.Store(false)
	return ErrCloseTimeout
}

// shutdown is Close's work, on a goroutine of its own so that Close can
// cut the connection when it takes too long; the flush gets what is left
// of the time to deadline.
func (b *Bridge) shutdown(deadline time.Time) error {
	b.wg.Wait()
	b.mu.Lock()
	subs := make([]*nats.Subscription, 0, len(b.subs))
	for subject, u := range b.subs {
		if u.sub != nil {
			subs = append(subs, u.sub)
		}
		delete(b.subs, subject)
	}
	clear(b.todo)
	b.wild = wildTree{}
	b.mu.Unlock()
	// Outside b.mu: Unsubscribe waits for nats.go's lock, and Stats must
	// not wait with it.
	for _, sub := range subs {
		b.dropUpstream(sub)
	}
	var err error
	if b.nc.IsConnected() {
		if left := time.Until(deadline); left > 0 {
			err = b.nc.FlushTimeout(left)
		} else {
			err = ErrCloseTimeout
		}
	}
	b.nc.Close()
	b.st.up.Store(false)
	return err
}

// report passes an error no call returns to Config.OnError.
func (b *Bridge) report(err error) {
	if f := b.cfg.OnError; f != nil && err != nil {
		f(err)
	}
}
