//go:build darwin || freebsd

package sock

import "golang.org/x/sys/unix"

// sysRead is read(2) (through libc on macOS, so not a raw call).
func sysRead(fd int, b []byte) (int, error) { return unix.Read(fd, b) }
