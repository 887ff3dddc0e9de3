// Package interop checks weir against real third-party WebSocket peers and against
// hand-made bad peers, and writes the results to docs/conformance.md. It is its own
// module (replace => ../) so that the peers' Go libraries (gorilla/websocket,
// gobwas/ws) never enter weir's go.mod; everything here is test code.
//
// # Running
//
//	cd interop && npm ci            # ws, websocket, watershed, playwright-core
//	apt-get install -y chromium python3-websockets
//	go test -count=1 .                    # matrix + bad-peer suite
//	go test -count=1 . -args -update-doc  # and rewrite ../docs/conformance.md
//
// At the repository root, `make docs` does the last line; `make interop` runs
// the suite with -args -check-doc instead, which fails when the committed
// ../docs/conformance.md says other than the run found, and writes nothing.
// The doc is written only after a complete run (no -run filter) in which
// every peer ran. Without CI=true a peer that is not installed is skipped,
// with one line naming what to install, and -check-doc leaves its cells out;
// with CI=true a missing peer fails the run.
//
// # The matrix
//
// Every pair is weir and one peer, each way: weir's server with the peer as client,
// and weir's client with the peer as server (Chromium is a client only). Every
// scenario (scenarios_test.go) runs on a fresh connection, and on a fresh weir
// engine so that a scenario may set its own engine.Config. A cell is one scenario
// on one pair, for one variant (variants_test.go: weir's three engine modes, no
// extension; permessage-deflate with and without context takeover). A cell passes, fails, or is a peer limit: a documented
// shortcoming of the peer (limits_test.go) whose exact symptom was seen in this
// run. A limit that stops showing, or shows differently, fails the cell.
//
// # The peer protocol
//
// Weir's side drives every scenario and checks the results; the peers run one small
// echo agent (peers/agent.js for the JavaScript peers, peers/python/peer.py, and
// agent_test.go for the Go libraries). The agent echoes every data message with its
// own opcode, and obeys text messages that start with "@@":
//
//	@@close CODE REASON   close with CODE and REASON
//	@@ping PAYLOAD        ping with PAYLOAD; send "@@pong PAYLOAD" when the pong arrives
//	@@frag N              echo later messages fragmented (N-byte fragments where the
//	                      library takes a size); answer "@@ok frag N"
//	@@info                answer "@@info {"lib","subprotocol","version"}"
//
// and answers "@@unsupported WHAT: WHY" to what its library cannot do. When a
// connection ends the peer reports it: what it negotiated, the close code and
// reason it received, the handshake status when it was refused. Process peers
// speak JSON lines: a server prints {"event":"listening","port":N} and a report per
// connection (matched by the ?id= query of the URL); a client prints
// {"event":"ready"}, reads {"id","url","protocols","version"} commands on stdin and
// prints a report per command. A process server with WEIR_TLS_CERT and
// WEIR_TLS_KEY (PEM files) in its environment serves wss:// with them instead.
//
// # Over TLS
//
// TestTLSMatrix (tls_matrix_test.go) runs every column of TestMatrix again over
// wss, every variant, both ways, with a certificate made per run: weir's ListenTLS
// against the client peers and weir's client against the peers' TLS servers
// (tls_peers_test.go says how each peer trusts or serves it), with the variant's
// engine configuration and permessage-deflate, judged as TestMatrix judges them
// (the echo rows stop at 1 MiB). Every weir connection must run over TLS 1.3: on
// the loops (AES-GCM, the record layer) in every variant but plain-goroutine, where
// all are in goroutine mode (TLSMetrics counts each side's). The variants' columns of a peer share its process. Its cells are not
// written to the doc.
//
// # The bad-peer suite
//
// badpeer_cases_test.go is a table of invalid handshakes and frames, one per rule,
// each with the exact HTTP status or close code weir must answer (and the error
// OnClose must report), plus bad servers for weir's client;
// badpeer_resource_test.go adds slow-drip input, a peer that never reads, a ping
// flood, peers that go silent or vanish. Every row runs under the three engine
// modes (worker pool, DispatchInline, GoroutinePerConn), table rows both written
// at once and dripped one byte at a time. Add a row to extend it.
//
// # Weir bugs
//
// A weir bug found here is described in bugs_test.go (file, function,
// reproduction); the results it breaks stay failures, named with its id, until it
// is fixed.
package interop
