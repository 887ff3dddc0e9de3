//go:build !linux && !darwin

package sock

// unsent is not known here (FreeBSD's FIONWRITE is not in x/sys/unix).
func unsent(int) (int, bool) { return 0, false }
