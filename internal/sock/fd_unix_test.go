//go:build linux || darwin || freebsd

package sock

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// TestWrite2: both slices go out in order; a full socket buffer is a short
// count and no error; after Close every call fails with EBADF and touches no
// other socket.
func TestWrite2(t *testing.T) {
	t.Parallel()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if err := unix.SetNonblock(fd, true); err != nil {
			t.Fatal(err)
		}
	}
	var w, r FD
	w.Own(fds[0])
	r.Own(fds[1])
	defer r.Close()
	tests := []struct {
		name string
		a, b string
	}{
		{"both", "head", "payload"},
		{"only a", "head", ""},
		{"only b", "", "payload"},
		{"neither", "", ""},
	}
	for _, tc := range tests {
		n, err := w.Write2([]byte(tc.a), []byte(tc.b))
		if err != nil || n != len(tc.a)+len(tc.b) {
			t.Fatalf("%s: Write2 %d, %v", tc.name, n, err)
		}
		if n == 0 {
			continue
		}
		buf := make([]byte, 64)
		m, err := r.Read(buf)
		if err != nil || string(buf[:m]) != tc.a+tc.b {
			t.Fatalf("%s: read %q, %v", tc.name, buf[:max(m, 0)], err)
		}
	}
	// Nothing to read: EAGAIN, and n is never negative.
	if n, err := r.Read(make([]byte, 8)); n != 0 || !IsAgain(err) {
		t.Fatalf("empty read: %d, %v", n, err)
	}
	// Fill the buffer: a short count, no error.
	big := bytes.Repeat([]byte{'x'}, 1<<20)
	total := 0
	for range 64 {
		n, err := w.Write2(big[:16], big)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if n < 16+len(big) {
			break
		}
	}
	if total == 0 || total%(16+len(big)) == 0 {
		t.Fatalf("never short: %d bytes taken", total)
	}
	// Full now: EAGAIN is nothing taken, no error.
	if n, err := w.Write2(big[:16], big); n != 0 || err != nil {
		t.Fatalf("Write2 on a full socket: %d, %v", n, err)
	}
	if err := w.Shutdown(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, err := w.Write2([]byte("x"), nil); !errors.Is(err, unix.EBADF) {
		t.Fatalf("Write2 after Close: %v", err)
	}
	if _, err := w.Read(make([]byte, 1)); !errors.Is(err, unix.EBADF) {
		t.Fatalf("Read after Close: %v", err)
	}
	if err := w.Shutdown(); !errors.Is(err, unix.EBADF) {
		t.Fatalf("Shutdown after Close: %v", err)
	}
}
