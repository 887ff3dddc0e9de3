// Package redial keeps a client connection up: it dials, runs the connection
// until it ends, waits a jittered exponential backoff, and dials again, until
// its context ends. It is a helper over engine.Client for push clients and load
// generators, kept outside the engine (none of ws, WebSocket-Node or watershed
// has it; reconnecting wrappers are the usual add-on).
//
// Contract: one Run call keeps at most one connection open at a time. The
// handler given to Run is the handler of every connection it opens, so OnOpen
// marks each (re)connection and OnClose each loss; the engine's rules hold for
// it (callbacks of one connection never overlap; payloads are valid only until
// the callback returns). When ctx ends, the open connection is closed with 1001
// and Run returns once it has ended.
package redial
