//go:build darwin || freebsd

package poller

// WakeConsumed reports whether no wake-up is pending. EV_CLEAR resets the
// kernel side when Wait retrieves the user event, so the flag is the state.
func WakeConsumed(p *Poller) (bool, error) { return !p.wakePending.Load(), nil }
