// Package pubsub is a topic index over engine connections: connections
// subscribe to topics, a publish reaches the connections subscribed to its
// topic, framed once and written to each with the engine's own write path,
// in batches of one system call each where the engine can
// (engine.WritePreparedMany).
//
// Contract:
//   - A Hub is safe from any goroutine. Subscribe, Unsubscribe, Publish and a
//     connection's close may run concurrently; a publish that races a
//     subscribe or unsubscribe of the same connection may or may not reach it.
//   - A publish costs O(subscribers of its topic) plus, when wildcard patterns
//     exist, one walk of the pattern tree along the topic's tokens; it never
//     looks at the other connections. Publish holds no lock while it writes.
//   - A connection's subscriptions go away when it closes (engine
//     Conn.AfterCloseFunc), so a Hub never keeps a closed connection, and
//     Hub.Close takes its hooks back: an open connection keeps nothing of it.
//   - Delivery is local and best effort: in order per connection for the
//     publishes of one goroutine, at most once; a subscriber over its write
//     buffer gets the engine's WriteBufferPolicy (error, drop or close) and
//     never slows the others.
//   - Topics are dot-separated tokens ("chat.room.42"); a subscription may be
//     a NATS-style pattern, "*" matching one token and a final ">" one or
//     more. Names are bounded (Config.MaxTopicLen, Config.MaxTokens), and so
//     are a connection's subscriptions (Config.MaxTopicsPerConn), since they
//     often come from clients.
//   - With Config.Bridge, every publish made here also goes to the other
//     nodes, and what they publish is fanned out here (not sent back).
//
// docs/pubsub.md has the model, the costs and what a gateway still builds.
package pubsub
