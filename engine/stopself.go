package engine

import (
	"context"
	"runtime"
	"strings"
	"time"

	"github.com/weir-ws/weir/internal/wsconn"
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
func abortAndStop(e *wsconn.Engine, stop func()) {
	ch := e.Census.Emptied()
	wait := func() {
		abortAll(e, ch)
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

// abortAll closes every remaining connection without a close frame and waits (a
// bounded time) for the workers to finish them, so that stopping the loops leaves
// no connection open. stopping is set already, and done (census.Emptied) is
// closed by the last connection to go. A connection being registered during a
// scan shows up in a later one (or ends itself, seeing stopping).
func abortAll(e *wsconn.Engine, done <-chan struct{}) {
	e.Aborting.Store(true)
	abort := func() {
		for c := range e.Conns(wsconn.AnyState) {
			c.Abort()
		}
	}
	if !e.Census.Abort(done, abort, 20*time.Millisecond, e.AbortFor) {
		e.Cfg.Logger.Warn("weir: connections still open after abort", "n", e.Census.Live.Load())
	}
}
