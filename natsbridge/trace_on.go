//go:build weirtrace

package natsbridge

// TraceHook, in a build with the weirtrace tag only, is called at points of
// the send path with the envelope's payload, for a benchmark's per-message
// timing (bench/servers/psweir -trace): 's' when the sender goroutine takes a
// publish from the queue, 'p' when nats.go's Publish has returned (the bytes
// are in its write buffer; its flusher goroutine writes them). It runs on the
// sender goroutine and must be quick. Set it before Start.
var TraceHook func(ev byte, payload []byte)

func trace(ev byte, payload []byte) {
	if TraceHook != nil {
		TraceHook(ev, payload)
	}
}
