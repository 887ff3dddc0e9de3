//go:build unix

package cli

import "syscall"

// openFileLimit is the open-file limit (RLIMIT_NOFILE), which the Go runtime has
// already raised to the hard limit; 0 if unknown.
func openFileLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0
	}
	if r.Cur > 1<<30 {
		return 1 << 30
	}
	return int(r.Cur)
}
