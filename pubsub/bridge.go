package pubsub

import "github.com/weir-ws/weir/frame"

// Bridge carries publishes between nodes: a Hub with a Bridge sends every
// publish made on this node to the other nodes, and fans out locally what
// the Bridge delivers from them.
//
// The Hub calls Interest with on=true when a topic (or wildcard pattern) gets
// its first local subscriber and with on=false after its last one leaves, so
// a bridge subscribes upstream only to what this node uses. A Bridge must not
// deliver a node's own publishes back to it.
//
// Implementations live outside the main module (natsbridge for NATS), so that
// it keeps only the standard library, x/sys and klauspost/compress.
type Bridge interface {
	// Start is called once, before any other method; deliver fans a message
	// from another node out to this node's local subscribers of topic. It is
	// safe from any goroutine and does not keep payload after it returns. It
	// returns nil when the Hub took the message (whether or not anyone here
	// receives it), else why it refused it: the checks a local publish gets
	// (ErrInvalidTopic, ErrWildcardPublish, ErrOpcode, ErrInvalidUTF8; the
	// Hub's limits may be narrower than the bridge's) or ErrHubClosed. A
	// bridge counts a refused message as such, never as delivered.
	Start(deliver func(topic string, op frame.Opcode, payload []byte) error) error
	// Publish sends a publish made on this node to the other nodes. It must
	// not block on the network for long: a bridge queues and reports loss in
	// its own counters rather than stall the publisher. The Hub calls it
	// before the local fan-out and then yields the processor once
	// (runtime.Gosched), so that a goroutine Publish woke to send gets to
	// run before the fan-out's writes, not after them.
	Publish(topic string, op frame.Opcode, payload []byte) error
	// Interest reports that this node now has (on) or no longer has (!on)
	// local subscribers of topic, which may be a wildcard pattern. Interests
	// may overlap ("news.>" and "news.a", or "news.*" and "*.a"): a message
	// matching several of them must still be delivered once, or every local
	// receiver gets it once per matching interest (upstream systems such as
	// NATS deliver once per subscription). It is called on the goroutine that
	// changed the subscriptions, an engine worker when a connection closes:
	// like Publish, it must not block on the network.
	Interest(topic string, on bool)
	// Close stops the bridge; Start's deliver is not called after it returns.
	Close() error
}
