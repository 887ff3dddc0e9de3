package natsbridge

import (
	"fmt"

	"github.com/nats-io/nats.go"
)

// Interest sets this node's upstream interest in topic: on subscribes to
// its subject (once: an Interest(topic, true) while subscribed changes
// nothing), !on unsubscribes. It is the Hub's state, not a count, as the
// Bridge contract words it ("now has", "no longer has"). A topic that is not
// a valid NATS subject (or pattern) is counted in Stats.InterestErrors and
// passed to Config.OnError.
//
// Interest only records the change: the bridge's interest goroutine makes
// the NATS subscribe or unsubscribe (interestLoop). The Hub calls Interest
// under its own lock, on an engine worker when a connection closes, and
// nats.go holds its connection's lock while it writes to the socket (its
// flusher, a Publish that fills its buffer), for up to its FlusherTimeout, a
// minute by default, when the server does not read: a subscribe made here
// would wait that long, and the worker's connections and the Hub with it
// (TestInterestDoesNotWaitOnNATS).
//
// Every upstream subscription feeds one channel read by one goroutine, so
// messages reach deliver in the order this connection received them, and
// the memory they can hold is bounded by Config.DeliverQueue.
func (b *Bridge) Interest(topic string, on bool) {
	if b.closed.Load() || b.nc == nil {
		return
	}
	subject := b.prefix + topic
	if !validSubject(subject, true) {
		b.st.interestErrors.Add(1)
		b.report(fmt.Errorf("%w: interest in %q", ErrTopic, topic))
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() { // Close took the lock first and dropped every upstream
		return
	}
	u := b.subs[subject]
	switch {
	case on:
		if u == nil {
			u = &upstream{}
			b.subs[subject] = u
		}
		u.want = true
		if u.sub == nil && !u.busy {
			b.todo[subject] = struct{}{}
		}
	case u == nil:
		return
	default:
		u.want = false
		switch {
		case u.busy: // interestLoop looks again when it is done
		case u.sub == nil: // never subscribed: forget it now, so that the
			// entries stay bounded by what the Hub has, even while
			// interestLoop waits on nats.go
			delete(b.subs, subject)
			delete(b.todo, subject)
		default:
			b.todo[subject] = struct{}{}
		}
	}
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// interestLoop makes the NATS subscriptions follow the Hub's interest, one
// subject at a time, until Close.
func (b *Bridge) interestLoop() {
	defer b.wg.Done()
	for {
		select {
		case <-b.kick:
		case <-b.done:
			return
		}
		for !b.closed.Load() && b.applyOne() {
		}
	}
}

// applyOne takes a subject off todo and subscribes or unsubscribes it as the
// Hub now wants; it reports false when todo was empty. b.mu is not held
// across the nats.go calls, so deliverLoop's owns never waits on them.
// Messages that arrive through a subscription before it is recorded, or
// after it is taken out, are dropped by owns, as core NATS gives no
// guarantee at a subscribe or unsubscribe anyway.
func (b *Bridge) applyOne() bool {
	b.mu.Lock()
	var subject string
	found := false
	for subject = range b.todo {
		found = true
		break
	}
	if !found {
		b.mu.Unlock()
		return false
	}
	delete(b.todo, subject)
	u := b.subs[subject]
	if u == nil || u.want == (u.sub != nil) {
		b.mu.Unlock()
		return true
	}
	u.busy = true
	old := u.sub
	if old != nil { // unsubscribing: owns refuses its messages from now on
		u.sub = nil
		b.dropWild(subject)
	}
	b.mu.Unlock()

	var sub *nats.Subscription
	var err error
	if old != nil {
		b.dropUpstream(old)
	} else {
		// nats.go records the subscription even while disconnected and
		// sends it (again) on every reconnect (resendSubscriptions).
		if sub, err = b.nc.ChanSubscribe(subject, b.in); err != nil {
			b.st.interestErrors.Add(1)
			b.report(fmt.Errorf("natsbridge: subscribe %q: %w", subject, err))
		}
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	u.busy = false
	if sub != nil {
		u.sub = sub
		b.addWild(subject)
	}
	switch {
	case !u.want && u.sub == nil:
		delete(b.subs, subject)
	case err == nil && u.want != (u.sub != nil):
		// The Hub changed its mind meanwhile. (A failed subscribe is not
		// retried until the Hub says on again.)
		b.todo[subject] = struct{}{}
	}
	return true
}

// addWild and dropWild keep b.wild, the subscribed subjects with a wildcard,
// as subject's subscription comes and goes (b.mu held).
func (b *Bridge) addWild(subject string) {
	if isWild(subject) {
		b.wild.insert(subject)
	}
}

func (b *Bridge) dropWild(subject string) {
	if isWild(subject) {
		b.wild.remove(subject)
	}
}

// dropUpstream unsubscribes sub, keeping the count of what nats.go dropped on
// it (which the subscription forgets once closed).
func (b *Bridge) dropUpstream(sub *nats.Subscription) {
	if n, err := sub.Dropped(); err == nil {
		b.st.slowGone.Add(uint64(n))
	}
	if err := sub.Unsubscribe(); err != nil && b.nc.IsConnected() {
		b.report(fmt.Errorf("natsbridge: unsubscribe %q: %w", sub.Subject, err))
	}
}

// deliverLoop passes messages from NATS to deliver until Close.
func (b *Bridge) deliverLoop() {
	defer b.wg.Done()
	for {
		select {
		case m := <-b.in:
			b.receive(m)
		case <-b.done:
			return
		}
	}
}

// receive checks one message from NATS and delivers it. Anything another
// party could have published to a weir subject is checked here: the size
// against MaxMessage, the envelope, UTF-8 for text.
func (b *Bridge) receive(m *nats.Msg) {
	if !b.owns(m) {
		return
	}
	if len(m.Data) > b.maxMsg+1 {
		b.st.oversized.Add(1)
		return
	}
	op, payload, ok := decode(m.Data)
	if !ok {
		b.st.malformed.Add(1)
		return
	}
	topic := m.Subject[len(b.prefix):]
	defer func() {
		// Recover at the edge: a panicking deliver (a Hub bug) must not
		// take the process down; the message is lost and counted.
		if recover() != nil {
			b.st.deliverPanics.Add(1)
		}
	}()
	// Counted after deliver has answered: the Hub may refuse what passed
	// the checks above (its topic limits can be narrower than a subject's,
	// and anyone on NATS can publish to "weir.a.*"), and that is not a
	// delivery. Not reported to OnError: a peer could flood it.
	if b.deliver(topic, op, payload) != nil {
		b.st.refused.Add(1)
		return
	}
	b.st.delivered.Add(1)
}

// owns reports whether m, which arrived through the upstream subscription
// m.Sub, is the one copy of its publish to deliver. NATS sends a connection
// one copy per matching subscription, so when this node has interest in
// overlapping patterns ("chat.*" and "chat.room1", or "chat.*" and "*.room1")
// a publish arrives twice or more, and the Hub, which fans a delivered topic
// out to every matching local subscriber, would deliver each of those copies
// to each of them. Of the active subscriptions that match a subject, the one
// that delivers is the literal one if there is one, else the first matching
// wildcard pattern of wildTree's walk; every other copy is dropped here.
// While the Hub changes interest a copy can cross that change and a publish
// can be delivered twice or not at all, as core NATS itself gives no
// guarantee at a subscribe or unsubscribe.
func (b *Bridge) owns(m *nats.Msg) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	via := m.Sub.Subject
	u := b.subs[via]
	if u == nil || u.sub == nil || u.sub != m.Sub {
		return false // unsubscribed since nats.go queued it
	}
	if len(m.Subject) <= len(b.prefix) || m.Subject[:len(b.prefix)] != b.prefix {
		return false // cannot happen under a prefix subscription
	}
	if via == m.Subject {
		return true
	}
	if lit := b.subs[m.Subject]; lit != nil && lit.sub != nil {
		b.st.overlap.Add(1)
		return false
	}
	if b.wild.first(m.Subject) != via {
		b.st.overlap.Add(1)
		return false
	}
	return true
}
