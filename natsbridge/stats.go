package natsbridge

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// Stats are a bridge's counters since Start.
type Stats struct {
	// Sent publishes were handed to NATS; SentDisconnected of them while
	// disconnected, into nats.go's reconnect buffer (they go out after the
	// reconnect; see doc.go for what can still be lost).
	Sent, SentDisconnected uint64
	// SendDropped publishes were refused or lost before NATS had them: too
	// large, send queue full, reconnect buffer full, connection closed.
	SendDropped uint64
	// Delivered messages from other nodes were passed to deliver and taken
	// by the Hub; Refused ones were passed to deliver and refused by it (a
	// topic over the Hub's limits or a pattern, the Hub closing: see
	// pubsub.Bridge), and are not delivered to anyone.
	Delivered, Refused uint64
	// Oversized (above MaxMessage) and Malformed (not an envelope this
	// bridge writes, or text that is not UTF-8) messages from NATS were
	// dropped.
	Oversized, Malformed uint64
	// SlowConsumer messages were dropped by nats.go because DeliverQueue was
	// full (deliver too slow for the incoming rate).
	SlowConsumer uint64
	// Overlap counts the extra copies dropped because overlapping patterns
	// each brought the same publish (see Bridge.Interest); not a loss.
	Overlap uint64
	// DeliverPanics counts messages whose deliver call panicked (neither
	// Delivered nor Refused).
	DeliverPanics uint64
	// InterestErrors counts Interest calls that could not subscribe.
	InterestErrors uint64
	// Subscriptions is the number of upstream NATS subscriptions now.
	Subscriptions int
	// Disconnects and Reconnects count the connection's losses and
	// recoveries; Disconnected is the total time spent without a server so
	// far, during which other nodes' publishes did not reach this node.
	Disconnects, Reconnects uint64
	Disconnected            time.Duration
	// Connected says whether the bridge has a server now, as its disconnect
	// and reconnect handlers last heard (read without nats.go's connection
	// lock, which a stuck write can hold for a minute).
	Connected bool
}

type counters struct {
	sent, sentDisconnected, sendDropped        atomic.Uint64
	delivered, refused, oversized, malformed   atomic.Uint64
	overlap                                    atomic.Uint64
	deliverPanics, interestErrors, slowGone    atomic.Uint64
	disconnects, reconnects, disconnectedNanos atomic.Uint64

	up       atomic.Bool // connected, by the handlers
	mu       sync.Mutex
	downFrom time.Time // when the current disconnect began; zero when connected
}

// Stats returns the bridge's counters.
func (b *Bridge) Stats() Stats {
	s := Stats{
		Sent:             b.st.sent.Load(),
		SentDisconnected: b.st.sentDisconnected.Load(),
		SendDropped:      b.st.sendDropped.Load(),
		Delivered:        b.st.delivered.Load(),
		Refused:          b.st.refused.Load(),
		Oversized:        b.st.oversized.Load(),
		Malformed:        b.st.malformed.Load(),
		SlowConsumer:     b.st.slowGone.Load(),
		Overlap:          b.st.overlap.Load(),
		DeliverPanics:    b.st.deliverPanics.Load(),
		InterestErrors:   b.st.interestErrors.Load(),
		Disconnects:      b.st.disconnects.Load(),
		Reconnects:       b.st.reconnects.Load(),
		Disconnected:     time.Duration(b.st.disconnectedNanos.Load()),
	}
	b.st.mu.Lock()
	if !b.st.downFrom.IsZero() {
		s.Disconnected += time.Since(b.st.downFrom)
	}
	b.st.mu.Unlock()
	b.mu.RLock()
	for _, u := range b.subs {
		if u.sub == nil {
			continue
		}
		s.Subscriptions++
		if n, err := u.sub.Dropped(); err == nil {
			s.SlowConsumer += uint64(n)
		}
	}
	b.mu.RUnlock()
	s.Connected = b.st.up.Load()
	return s
}

func (b *Bridge) onDisconnect(_ *nats.Conn, err error) {
	b.st.disconnects.Add(1)
	b.st.up.Store(false)
	b.st.mu.Lock()
	if b.st.downFrom.IsZero() {
		b.st.downFrom = time.Now()
	}
	b.st.mu.Unlock()
	b.report(err)
}

func (b *Bridge) onReconnect(*nats.Conn) {
	b.st.reconnects.Add(1)
	b.st.up.Store(true)
	b.st.mu.Lock()
	if !b.st.downFrom.IsZero() {
		b.st.disconnectedNanos.Add(uint64(time.Since(b.st.downFrom)))
		b.st.downFrom = time.Time{}
	}
	b.st.mu.Unlock()
}

func (b *Bridge) onAsyncError(_ *nats.Conn, _ *nats.Subscription, err error) {
	b.report(err)
}
