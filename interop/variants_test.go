package interop

import "github.com/weir-ws/weir/engine"

// A variant runs every cell of the matrix again under other settings. The first
// variant is the reference and gets full tables in docs/conformance.md; the others
// are reported by how they differ from it.
//
// Today the variants are weir's three ways of running a connection (the worker
// pool, callbacks on the loop, a goroutine per connection), all with no extension.
// permessage-deflate is not negotiated by the engine yet. When it is, "deflate"
// variants go here, setting the engine's and upgrader's extension options (and a
// field in dialCmd and the peers' server paths asking them to offer or accept
// permessage-deflate): every scenario then runs compressed, with the same rows.
type variant struct {
	name, about string
	// apply adjusts a scenario's engine configuration for the variant.
	apply func(engine.Config) engine.Config
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
}
