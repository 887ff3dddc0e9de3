// Package loadgen is weir's WebSocket load generator: the engine behind
// `weir bench` and the bench module's `wsbench gen`. One generator opens many
// connections to an echo server and runs one of six workloads on them: a closed
// echo loop with a round-trip histogram, an open echo loop at a fixed rate
// (Options.Rate; latency from each message's scheduled send time, so a stall is
// not hidden by sending less), fan-out (Options.Fanout: publishers send stamped
// messages at a fixed rate to a server that broadcasts them, and every connection
// records each one's delivery latency), idle (connections held open), broadcast
// receipt (each connection waits for one server-sent message), or a connection
// storm (dial and close as fast as Concurrency goroutines can).
//
// Each dial is bounded by Options.DialTimeout and the whole connect phase by
// Options.ConnectFor, so an unreachable server ends a run in bounded time.
//
// # Connections
//
// WebSocket connections run on one weir engine.Client with a Handler: no goroutine
// and no buffer per idle connection, so one process holds tens of thousands. The raw
// TCP baseline (Options.Raw) sends the same bytes unframed to a TCP echo server; it
// has no framing for weir's client to parse, so it uses one goroutine per
// connection. Options.Sources spreads connections over the source addresses
// 127.0.0.2, 127.0.0.3 ... (Linux: the whole of 127.0.0.0/8 is local), which lifts
// the limit of about 28 000 ephemeral ports per source address towards one server
// port; on Linux each dial sets IP_BIND_ADDRESS_NO_PORT.
//
// # Process protocol
//
// A parent drives a generator with one command word a line and reads one JSON
// Event a line back (Serve is the generator's side, Proc the parent's; Local runs a
// generator in-process over pipes, so a parent drives local and child generators
// with the same code). Options travel to a child as flags (Options.Args,
// ParseArgs). The sequence:
//
//	(connect phase)  -> {"ev":"progress","conns":N,"failed":F} every 500 ms
//	                 -> {"ev":"ready","conns":N,"failed":F}
//	go      start the echo loop, open or closed, or the fan-out publishers (storm: start the storm; it ends with a "result"
//	        event by itself after Options.StormFor, and sends "progress" events
//	        with "handshakes" and "errors" every 500 ms until then)
//	mark    zero the counters and the histogram (the end of a warm-up) -> {"ev":"marked"}
//	bcast   expect one more broadcast message on every connection -> {"ev":"armed"}
//	report  -> {"ev":"result","msgs":...,"sent":...,"errors":...,"hist":[...],"open":...}
//	stop    end the echo loop or the publishing (messages in flight are dropped)
//	quit    close every connection and end (as does the end of the commands)
//
// Commands other than quit wait for "ready". Fields that are zero are left out of
// an event. A report's counters and histogram cover the time since the last mark
// (or since the start) and are not reset by reporting, so a parent may report once
// a second for a live view and once more at the end. The histogram is Hist: counts
// in 2%-wide buckets, which merge across generators by adding.
package loadgen
