// Package natsbridge carries weir's pub/sub between nodes over NATS: it is a
// pubsub.Bridge, so a Hub configured with one sends every local publish to
// the other nodes and fans out locally what they publish.
//
// It lives in its own module so that the main module keeps only the standard
// library, x/sys and klauspost/compress. A node makes one bridge,
// natsbridge.New(natsbridge.Config{URL: "nats://a:4222,nats://b:4222"}), and
// gives it to its Hub (pubsub's Config.Bridge), which calls Start, Publish,
// Interest and Close. deliver must not call Close (Close waits for deliver).
//
// # Subjects and interest
//
// Topic t travels on NATS subject Config.Prefix + "." + t ("weir.chat.room1").
// pubsub's wildcards are NATS's: "*" stands for one dot-separated token, a
// final ">" for one or more. The bridge holds one NATS subscription per topic
// or pattern that has local subscribers: Interest(t, true) from the Hub
// subscribes (once, however often it is said), Interest(t, false)
// unsubscribes, so the cluster routes a topic to a node only while that node
// uses it. Interest only records the change, and a goroutine of the bridge
// makes it: nats.go may hold its connection's lock for up to a minute while
// a write to a server that does not read waits, and the Hub calls Interest
// on engine workers. nats.go keeps the subscriptions across reconnects and
// sends them again to whichever server it reconnects to. Overlapping patterns would
// bring a publish once per matching subscription; the bridge delivers one
// copy (Bridge.Interest).
//
// # No echo
//
// A node must not get its own publishes back (its Hub has fanned them out
// locally already). The bridge owns its NATS connection, one per node, so the
// connection is the node, and the server's no-echo option (nats.NoEcho, sent
// in CONNECT and again on every reconnect) is exactly "not from this node":
// the server drops the echo before it costs a byte on the wire or any work
// here. A node-id header or subject marker would do the same at the price of
// bytes on every message and a check on every receipt, and would be needed
// only if several nodes shared one connection, which this bridge never does.
// Two Bridges in one process (as in the tests) are two nodes with two
// connections.
//
// # Encoding
//
// A message's data is one type byte and the payload: 't' then a text
// message's UTF-8, or 'b' then a binary message's bytes. ASCII, so a plain
// NATS client can publish to weir subscribers; no headers, so a message costs
// one byte over its payload. What arrives is checked as an attacker's bytes:
// larger than MaxMessage (Stats.Oversized), an unknown or missing type byte,
// or text that is not UTF-8 (Stats.Malformed) is dropped and counted; the
// server's max_payload bounds what nats.go reads at all. What passes and the
// Hub then refuses (a topic over its own limits, a subject with a wildcard
// token, which a plain client may publish to) is counted in Stats.Refused.
//
// # Bounds
//
// Publish never waits on the network: it copies the message into a queue
// bounded by Config.SendQueue and SendQueueBytes and a sender goroutine hands
// it to nats.go; a full queue refuses with ErrQueueFull. Messages from NATS
// wait in one channel of Config.DeliverQueue for one delivering goroutine;
// when deliver falls behind, nats.go drops the surplus (Stats.SlowConsumer).
// Close takes at most Config.CloseTimeout (and the moment it takes to end
// the goroutines): past it, it cuts the connection, since nats.go would wait
// a minute on a write to a server that stopped reading.
//
// # Gaps
//
// Core NATS is at-most-once. While the bridge has no server (the server died,
// the network broke, until it has reconnected to another server of
// Config.URL and that server's interest has reached the cluster), publishes
// from other nodes are not routed to this node and are lost for its
// subscribers; nothing in core NATS records them, so the bridge reports the
// window instead: Stats.Disconnects, Reconnects and Disconnected (time
// without a server). This node's own publishes during the gap go to nats.go's
// reconnect buffer (Config.ReconnectBuffer, Stats.SentDisconnected) and out
// after the reconnect; those the buffer cannot hold are dropped and counted
// (Stats.SendDropped), and those already written to the dying server's
// socket are lost uncounted. An application that must know about every loss
// numbers its messages (the cluster tests do, and print what a server kill
// costs) or uses JetStream.
package natsbridge
