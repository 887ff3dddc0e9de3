package interop

import (
	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/engine"
)

// A variant runs every cell of the matrix again under other settings. The first
// variant is the reference and gets full tables in docs/conformance.md; the others
// are reported by how they differ from it.
//
// Today the variants are weir's three ways of running a connection (the worker
// pool, callbacks on the loop, a goroutine per connection), all with no extension.
// The "deflate" variants turn permessage-deflate on in weir (Config.Compression
// for its server, DialOptions.Compression for its client): every scenario then
// runs compressed with the peers that negotiate it (ws, which offers it as a client
// and accepts it as a server here; Python websockets; Chromium, which always
// offers it with client_max_window_bits), and the cell fails if they did not.
type variant struct {
	name, about string
	// apply adjusts a scenario's engine configuration for the variant.
	apply func(engine.Config) engine.Config
	// deflate, when set, is weir's permessage-deflate configuration.
	deflate *deflate.Options
	// wss, when set, serves weir's side through Server.ListenTLS and dials wss://
	// (TestTLSMatrix runs every variant so; not a variant of TestMatrix, so
	// docs/conformance.md does not show it).
	wss *wssSide
}

// deflatePeers are the peers that negotiate permessage-deflate with weir, by role.
func deflatePeer(peer string, r role) bool {
	switch peer {
	case "ws", "python-websockets":
		return true
	case "chromium":
		return r == weirServer
	}
	return false
}

func (v variant) config(c engine.Config) engine.Config {
	if v.apply != nil {
		return v.apply(c)
	}
	return c
}

var variants = []variant{
	{name: "plain", about: "no extension negotiated; engine defaults (worker pool)"},
	{name: "plain-inline", about: "Config.Dispatch = DispatchInline, callbacks on the event loop",
		apply: func(c engine.Config) engine.Config { c.Dispatch = engine.DispatchInline; return c }},
	{name: "plain-goroutine", about: "Config.GoroutinePerConn, one reader goroutine per connection and blocking writes",
		apply: func(c engine.Config) engine.Config { c.GoroutinePerConn = true; return c }},
	{name: "deflate", about: "permessage-deflate with context takeover, every message compressed (Threshold -1)",
		deflate: &deflate.Options{Threshold: -1}},
	{name: "deflate-no-takeover", about: "permessage-deflate, server_no_context_takeover and client_no_context_takeover",
		deflate: &deflate.Options{Threshold: -1, ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
}
