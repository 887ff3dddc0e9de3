package engine

import (
	"context"
	"runtime"
	"strings"
)

// Stopping from the inside: a Handler callback, a handshake hook or a done
// callback runs on a goroutine that stop waits for (a loop or a pool worker
// of internal/reactor, a goroutine of internal/spawn: goroutine mode, TLS
// handshakes). Close, Shutdown and Client.Close called there cannot wait for
// it: they begin the stop (no new connections; Shutdown's 1001s) and leave
// the rest (the aborts, the waits) to a goroutine of their own, which
// finishes the stop once the callback has returned.

// engine goroutines are those with a frame in these packages: their entry
// points (Reactor.poolWorker, Loop.run, Group.Go's) are there, and a
// goroutine of the caller's never runs their code above its own frames (the
// reactor's Post only queues).
var enginePkgs = [...]string{
	"github.com/weir-ws/weir/internal/reactor.",
	"github.com/weir-ws/weir/internal/spawn.",
}

// onEngineGoroutine reports whether the caller runs on a goroutine that an
// engine started and its stop waits for (any engine's: one stopping another
// from a callback need not wait either). A stack walk: for Close and
// Shutdown, never on a data path.
func onEngineGoroutine() bool {
	pcs := make([]uintptr, 64)
	for {
		n := runtime.Callers(2, pcs)
		if n < len(pcs) {
			pcs = pcs[:n]
			break
		}
		pcs = make([]uintptr, 2*len(pcs))
	}
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		for _, p := range enginePkgs {
			if strings.HasPrefix(f.Function, p) {
				return true
			}
		}
		if !more {
			return false
		}
	}
}

// abortAndStop is the waiting part of Server.Close and Client.Close: it
// aborts every connection (abortAll), then stops (stop: the Server's or the
// engine's own), on the caller's goroutine or, on an engine goroutine (see
// above), on a goroutine of its own.
func (e *engine) abortAndStop(stop func()) {
	ch := e.census.Emptied()
	wait := func() {
		e.abortAll(ch)
		stop()
	}
	if onEngineGoroutine() {
		go wait()
		return
	}
	wait()
}

// keepDeadline is ctx for a wait that outlives the call given ctx: ended by
// its deadline, not by its cancel (a callback's deferred cancel).
func keepDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	d, ok := ctx.Deadline()
	ctx = context.WithoutCancel(ctx)
	if !ok {
		return ctx, func() {}
	}
	return context.WithDeadline(ctx, d)
}
