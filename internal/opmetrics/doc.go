// Package opmetrics holds the engine's operator event counters (docs/metrics.md)
// and the fixed tables that label them: refused handshakes by HTTP status,
// closes by close code and by who started the closing handshake, writes the
// WriteBufferPolicy refused (WriteErr tells them by wswrite's errors),
// handshakes that timed out, and the ping round-trip histogram.
//
// # Contract
//
//   - Every table has a fixed size chosen here, so an attacker cannot grow it:
//     a status or close code outside the table is counted as "other", and no
//     label value ever comes from the network.
//   - Counters are touched only on events that are rare next to messages (a
//     handshake answered, a connection ended, a write refused, a pong), one
//     atomic add each and no lock; they only grow. A zero Counters is ready.
//   - Snapshots (Refused, Closes, RTT) allocate and cost a few dozen atomic
//     loads: call them per scrape.
//
// engine exports StatusCount, CloseCount, Histogram and RTTBuckets from here
// under its own names.
package opmetrics
