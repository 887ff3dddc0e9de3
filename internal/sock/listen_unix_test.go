//go:build linux || darwin || freebsd

package sock

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/weir-ws/weir/internal/sock/socktest"
)

// checkOwned fails unless fd is non-blocking and close-on-exec, as every fd
// this package hands out must be.
func checkOwned(t *testing.T, fd int) {
	t.Helper()
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_NONBLOCK == 0 {
		t.Errorf("fd %d: flags %#x (%v), want O_NONBLOCK", fd, fl, err)
	}
	fdfl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil || fdfl&unix.FD_CLOEXEC == 0 {
		t.Errorf("fd %d: fd flags %#x (%v), want FD_CLOEXEC", fd, fdfl, err)
	}
}

func TestResolveTCP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr    string
		want    string
		wantErr bool
	}{
		{"127.0.0.1:80", "127.0.0.1:80", false},
		{":8080", "0.0.0.0:8080", false},
		{"[::1]:0", "[::1]:0", false},
		{"[fe80::1%lo]:1", "[fe80::1%lo]:1", false},
		{"localhost:0", "", false}, // resolved: any loopback address
		{"no-port", "", true},
		{"127.0.0.1:99999", "", true},
	}
	for _, tc := range tests {
		got, err := resolveTCP(tc.addr)
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: err %v, want error %v", tc.addr, err, tc.wantErr)
			continue
		}
		if tc.want != "" && got.String() != tc.want {
			t.Errorf("%q: %v, want %s", tc.addr, got, tc.want)
		}
		if tc.addr == "localhost:0" && !got.Addr().IsLoopback() {
			t.Errorf("%q: %v, want loopback", tc.addr, got)
		}
	}
}

// TestListenAccept: Accept hands over every pending connection with its
// peer's address until the backlog is empty, closes those keep refuses, and
// does nothing once the Listener is closed; Close unwatches first, once.
func TestListenAccept(t *testing.T) {
	t.Parallel()
	ln, err := Listen("127.0.0.1:0", 16, false)
	if err != nil {
		t.Fatal(err)
	}
	checkOwned(t, ln.FD())
	const n = 6
	clients := map[netip.AddrPort]net.Conn{}
	for range n {
		nc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		clients[nc.LocalAddr().(*net.TCPAddr).AddrPort()] = nc
	}
	var kept []int
	seen := map[netip.AddrPort]bool{}
	deadline := time.Now().Add(10 * time.Second)
	for len(seen) < n && time.Now().Before(deadline) {
		err := ln.Accept(func(fd int, remote netip.AddrPort) bool {
			checkOwned(t, fd)
			if clients[remote] == nil || seen[remote] {
				t.Errorf("accepted %v: not a client, or twice", remote)
			}
			seen[remote] = true
			if len(seen)%2 == 0 {
				return false // refused: Accept closes it
			}
			kept = append(kept, fd)
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) < n {
			time.Sleep(5 * time.Millisecond) // connections still completing
		}
	}
	if len(seen) != n {
		t.Fatalf("accepted %d of %d", len(seen), n)
	}
	for _, fd := range kept {
		unix.Close(fd)
	}
	// Every client sees its end: refused or closed by the test, EOF.
	for a, nc := range clients {
		nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := nc.Read(make([]byte, 1)); err != io.EOF && !errors.Is(err, unix.ECONNRESET) {
			t.Errorf("client %v: %v, want EOF", a, err)
		}
	}
	unwatched := 0
	ln.Close(func(fd int) {
		if fd != ln.FD() {
			t.Errorf("unwatch fd %d, want %d", fd, ln.FD())
		}
		unwatched++
	})
	ln.Close(func(int) { unwatched++ })
	if unwatched != 1 {
		t.Fatalf("unwatch ran %d times", unwatched)
	}
	if err := ln.Accept(func(int, netip.AddrPort) bool { t.Error("accept after Close"); return false }); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.FcntlInt(uintptr(ln.FD()), unix.F_GETFD, 0); err == nil {
		// The number may have been reused by a parallel test; only a
		// listening socket on our port would be ours.
		if sa, err := unix.Getsockname(ln.FD()); err == nil && addrPort(sa) == ln.Addr().(*net.TCPAddr).AddrPort() {
			t.Fatal("listening socket still open after Close")
		}
	}
}

func TestListenErrors(t *testing.T) {
	t.Parallel()
	ln, err := Listen("127.0.0.1:0", 16, false)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close(nil)
	tests := []struct {
		name string
		addr string
	}{
		{"port in use", ln.Addr().String()},
		{"not an address", "nowhere"},
		{"not a local address", "192.0.2.1:0"},
	}
	for _, tc := range tests {
		if l2, err := Listen(tc.addr, 16, false); err == nil {
			l2.Close(nil)
			t.Errorf("%s: Listen(%q) succeeded", tc.name, tc.addr)
		}
	}
	if !OutOfFDs(os.NewSyscallError("accept", unix.EMFILE)) || !OutOfFDs(unix.ENFILE) || OutOfFDs(unix.EAGAIN) || OutOfFDs(nil) {
		t.Fatal("OutOfFDs")
	}
}

// TestTake: FromListener and TakeConn take plain TCP sockets (a dup, the
// original stays the caller's) and decline what is not a socket's bytes.
func TestTake(t *testing.T) {
	t.Parallel()
	nl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer nl.Close()
	ln, ok := FromListener(nl)
	if !ok {
		t.Fatal("FromListener declined a TCP listener")
	}
	checkOwned(t, ln.FD())
	if ln.Addr().String() != nl.Addr().String() {
		t.Fatalf("Addr %v, want %v", ln.Addr(), nl.Addr())
	}
	ln.Close(nil)
	if _, ok := FromListener(tls.NewListener(nl, &tls.Config{})); ok {
		t.Fatal("FromListener took a TLS listener")
	}

	cc, _ := socktest.TCPPair(t)
	p1, p2 := net.Pipe()
	defer p1.Close()
	defer p2.Close()
	tests := []struct {
		name string
		nc   net.Conn
		ok   bool
	}{
		{"tcp", cc, true},
		{"tls over tcp", tls.Client(cc, &tls.Config{}), false},
		{"pipe", p1, false},
	}
	for _, tc := range tests {
		fd, ok := TakeConn(tc.nc)
		if ok != tc.ok {
			t.Errorf("%s: TakeConn ok %v, want %v", tc.name, ok, tc.ok)
		}
		if ok {
			checkOwned(t, fd)
			var f FD
			f.Own(fd)
			if got, want := f.LocalAddr(), cc.LocalAddr().(*net.TCPAddr).AddrPort(); got != want {
				t.Errorf("%s: LocalAddr %v, want %v", tc.name, got, want)
			}
			f.Close()
		}
	}
}
