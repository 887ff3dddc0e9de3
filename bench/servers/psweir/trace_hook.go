//go:build weirtrace

package main

import "github.com/weir-ws/weir/natsbridge"

// With -tags weirtrace, -trace also records natsbridge's sender-goroutine
// events (s, p: see trace.go).
func init() {
	bridgeTrace = func(t *tracer) {
		natsbridge.TraceHook = func(ev byte, p []byte) { t.ev(string(ev), p) }
	}
}
