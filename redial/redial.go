package redial

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// Options configure Run. The zero value (or nil) means the defaults.
type Options struct {
	// Dial is used for every dial; its Handler is replaced by Run's.
	Dial *engine.DialOptions
	// MinDelay is the first wait before redialling. Default 500 ms.
	MinDelay time.Duration
	// MaxDelay caps the wait, which doubles after each failed dial. Default 30 s.
	MaxDelay time.Duration
	// Jitter spreads each wait by up to this fraction either way. Default 0.2;
	// negative: none.
	Jitter float64
	// MinUptime is how long a connection must stay open to count as a
	// success: one that ends sooner counts as a failed dial, and the wait
	// before the next dial keeps doubling (RFC 6455 §7.2.3), so that a server
	// that accepts and closes at once is not redialled every MinDelay forever.
	// Default 5 s; negative: every connection that opens resets the backoff.
	MinUptime time.Duration
	// MaxElapsed gives up when no dial has succeeded for this long (Run returns
	// the last dial error, or how the last connection ended); a connection that
	// ended before MinUptime counts as a failed dial. Default 0: never.
	MaxElapsed time.Duration
	// Retry says whether a failed dial is worth retrying. Default: everything but
	// a handshake refused with a 4xx status other than 408 and 429 (the server
	// said no: asking again will not change it) and ErrClientClosed.
	Retry func(err error) bool
	// OnRetry, when set, is told each failed dial and the wait before the next.
	// A refusal with 503 or 429 and a Retry-After field waits at least what
	// the field asks (RFC 9110 §10.2.3), spread upward by Jitter, and at most
	// MaxDelay.
	OnRetry func(err error, wait time.Duration)
}

// ErrGaveUp wraps the last dial error when MaxElapsed has passed without a
// connection, or when Retry said no.
var ErrGaveUp = errors.New("redial: gave up")

// Retryable is the default Retry.
func Retryable(err error) bool {
	if errors.Is(err, engine.ErrClientClosed) {
		return false
	}
	var he *upgrade.HandshakeError
	if errors.As(err, &he) && he.Status >= 400 && he.Status < 500 {
		return he.Status == http.StatusRequestTimeout || he.Status == http.StatusTooManyRequests
	}
	return true
}

// Run keeps a connection to url open on cl, with h (nil: engine.NopHandler)
// as the handler of every connection, until ctx ends (it returns ctx's error
// once the last connection has closed) or it gives up (ErrGaveUp wrapping the last dial error). A
// connection that ends after MinUptime is redialled after MinDelay; failed
// dials, and connections that end sooner, back off.
func Run(ctx context.Context, cl *engine.Client, url string, h engine.Handler, o *Options) error {
	opt := o.withDefaults()
	if h == nil {
		h = engine.NopHandler{} // a nil Handler panics in every callback
	}
	var dopt engine.DialOptions
	if opt.Dial != nil {
		dopt = *opt.Dial
	}
	failures := 0
	since := time.Now() // the end of the last connection that lasted MinUptime, or Run's start
	for {
		w := &watch{Handler: h, done: make(chan struct{})}
		dopt.Handler = w
		c, _, err := cl.Dial(ctx, url, &dopt)
		if ctx.Err() != nil {
			if err == nil {
				c.Close(frame.StatusGoingAway, "")
				<-w.done
			}
			return ctx.Err()
		}
		early := false
		if err == nil {
			opened := time.Now()
			select {
			case <-w.done:
			case <-ctx.Done():
				c.Close(frame.StatusGoingAway, "")
				<-w.done
				return ctx.Err()
			}
			ended := time.Now()
			if early = ended.Sub(opened) < opt.MinUptime; !early {
				failures = 0
				since = ended
			} else if opt.MaxElapsed > 0 && time.Since(since) >= opt.MaxElapsed {
				// A connection that ends before MinUptime counts as a failed
				// dial, for MaxElapsed too: a server that accepts and closes
				// at once must not keep Run going forever.
				return fmt.Errorf("%w after %v: connection ended after %v: %w", ErrGaveUp, opt.MaxElapsed, ended.Sub(opened).Round(time.Millisecond), w.cause())
			}
		} else {
			if !opt.Retry(err) {
				return fmt.Errorf("%w: %w", ErrGaveUp, err)
			}
			if opt.MaxElapsed > 0 && time.Since(since) >= opt.MaxElapsed {
				return fmt.Errorf("%w after %v: %w", ErrGaveUp, opt.MaxElapsed, err)
			}
		}
		wait := delay(failures, opt.MinDelay, opt.MaxDelay, opt.Jitter, random())
		if ra, ok := retryAfter(err, time.Now()); ok {
			wait = max(wait, spread(ra, opt.MaxDelay, opt.Jitter, random()))
		}
		if err != nil || early {
			failures++
		}
		if err != nil && opt.OnRetry != nil {
			opt.OnRetry(err, wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// retryAfter is the wait a refusal with 503 or 429 asks for in its
// Retry-After field (RFC 9110 §10.2.3, RFC 6585 §4): delta-seconds or an
// HTTP-date after now. ok is false for any other error or status, and for a
// field that is absent, does not parse or names no wait.
func retryAfter(err error, now time.Time) (time.Duration, bool) {
	var he *upgrade.HandshakeError
	if !errors.As(err, &he) || he.Status != http.StatusServiceUnavailable && he.Status != http.StatusTooManyRequests {
		return 0, false
	}
	v := strings.TrimSpace(he.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		n, err := strconv.ParseUint(v, 10, 64)
		switch {
		case errors.Is(err, strconv.ErrRange) || err == nil && n > math.MaxInt64/uint64(time.Second):
			return math.MaxInt64, true // capped by the caller
		case err != nil || n == 0:
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil || !t.After(now) {
		return 0, false
	}
	return t.Sub(now), true
}

// spread caps d, a wait the server asked for, at hi (a server may not park
// the client beyond what its caller accepts), then spreads it upward by up
// to jitter of itself, so that clients told the same moment do not all come
// back at it, and never earlier than asked; r is uniform in [0, 1).
func spread(d, hi time.Duration, jitter, r float64) time.Duration {
	d = min(d, hi)
	if f := float64(d) * (1 + jitter*r); f < float64(hi) {
		return time.Duration(f)
	}
	return hi
}

// withDefaults returns a copy of o (nil: the zero Options) with its zero
// fields set to the defaults.
func (o *Options) withDefaults() Options {
	var opt Options
	if o != nil {
		opt = *o
	}
	if opt.MinDelay <= 0 {
		opt.MinDelay = DefaultMinDelay
	}
	if opt.MaxDelay <= 0 {
		opt.MaxDelay = DefaultMaxDelay
	}
	opt.MaxDelay = max(opt.MaxDelay, opt.MinDelay)
	if opt.MinUptime == 0 {
		opt.MinUptime = DefaultMinUptime
	}
	if opt.Jitter == 0 || math.IsNaN(opt.Jitter) { // NaN would pass min and max
		opt.Jitter = DefaultJitter
	}
	opt.Jitter = min(max(opt.Jitter, 0), 1)
	if opt.Retry == nil {
		opt.Retry = Retryable
	}
	return opt
}

// watch is the handler of one connection: h's, plus a signal when it ends
// and how it ended (set before done is closed).
type watch struct {
	engine.Handler
	done chan struct{}
	end  error
}

func (w *watch) OnClose(c *engine.Conn, code frame.StatusCode, reason string, err error) {
	// Deferred: the engine contains a panic in h's OnClose and only logs it;
	// Run must still learn that the connection is gone, or it would neither
	// redial nor, once ctx ended, return.
	defer close(w.done)
	w.end = err
	if err == nil {
		w.end = &engine.CloseError{Code: code, Reason: reason}
	}
	w.Handler.OnClose(c, code, reason, err)
}

// cause is how the connection ended (after done).
func (w *watch) cause() error { return w.end }
