//go:build !weirtrace

package natsbridge

// trace is the debug build's timestamp hook (trace_on.go); in a normal build
// it is empty and inlined away, so the send path pays nothing for it.
func trace(ev byte, payload []byte) {}
