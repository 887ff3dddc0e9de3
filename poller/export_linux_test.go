package poller

import "golang.org/x/sys/unix"

// WakeConsumed reports whether no wake-up is pending: the coalescing flag is
// clear and the eventfd counter has been drained.
func WakeConsumed(p *Poller) (bool, error) {
	if p.wakePending.Load() {
		return false, nil
	}
	var b [8]byte
	_, err := unix.Read(p.wakefd, b[:])
	if err == unix.EAGAIN {
		return true, nil
	}
	return false, err
}
