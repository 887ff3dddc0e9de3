//go:build linux || darwin || freebsd

package sock

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestZeroOwnsNothing(t *testing.T) {
	t.Parallel()
	var f FD
	if f.Int() != -1 || f.Num() != -1 || f.Gen() != 0 {
		t.Fatalf("zero FD: Int %d Num %d Gen %d", f.Int(), f.Num(), f.Gen())
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCloseOnce: Close closes the fd once; afterwards Int is -1 and a second
// Close does not close the number again (by then it may be another socket's).
func TestCloseOnce(t *testing.T) {
	t.Parallel()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[1])
	var f, g FD
	f.Own(fds[0])
	g.Own(fds[0]) // the same number owned again later: a new generation
	if f.Gen() == 0 || f.Gen() == g.Gen() {
		t.Fatalf("generations %d, %d", f.Gen(), g.Gen())
	}
	if f.Int() != fds[0] || f.Num() != fds[0] {
		t.Fatalf("Int %d Num %d, want %d", f.Int(), f.Num(), fds[0])
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if f.Int() != -1 || f.Num() != fds[0] {
		t.Fatalf("after Close: Int %d Num %d", f.Int(), f.Num())
	}
	// Reuse the number, then Close again: the new socket must stay open.
	re, err := unix.Dup(fds[1])
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(re)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.FcntlInt(uintptr(re), unix.F_GETFD, 0); err != nil {
		t.Fatalf("second Close closed fd %d: %v", re, err)
	}
}
