//go:build darwin || freebsd

package sock

import "golang.org/x/sys/unix"

// writev2 writes two slices: the second only once the first went out whole.
func writev2(fd int, a, b []byte) (int, error) {
	n := 0
	if len(a) > 0 {
		w, err := unix.Write(fd, a)
		if w > 0 {
			n += w
		}
		if err != nil || w < len(a) {
			return n, err
		}
	}
	if len(b) > 0 {
		w, err := unix.Write(fd, b)
		if w > 0 {
			n += w
		}
		return n, err
	}
	return n, nil
}
