//go:build linux || darwin || freebsd

package poller_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/weir-ws/weir/poller"
	"golang.org/x/sys/unix"
)

// quiet is how long a test waits to be sure that no event comes. It only
// bounds how long an absence is observed; nothing asserts on elapsed time.
const quiet = 50 * time.Millisecond

// patience bounds the wait for an event that must come, so a broken poller
// fails the test instead of hanging it.
const patience = 10 * time.Second

// parked is set for the second pass of the tests (see TestMain): every
// Poller from newPoller and openPoller then parks its Wait in Go's netpoller.
var parked bool

// TestMain runs the tests twice on Linux: with Wait blocking in epoll_wait,
// then with ParkInRuntime, so both ways of waiting meet the same contract.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && isLinux {
		parked = true
		code = m.Run() // a second Run is supported (go.dev/issue/23129)
	}
	os.Exit(code)
}

// openPoller is poller.New in the mode of the current pass.
func openPoller(t testing.TB) *poller.Poller {
	t.Helper()
	p, err := poller.New()
	if err != nil {
		t.Fatal(err)
	}
	if parked && !p.ParkInRuntime() {
		p.Close()
		t.Fatal("ParkInRuntime: the runtime did not take the epoll fd")
	}
	return p
}

func newPoller(t testing.TB) *poller.Poller {
	t.Helper()
	p := openPoller(t)
	t.Cleanup(func() { p.Close() })
	return p
}

func closeFd(fd int) { unix.Close(fd) }

// closeAtEnd closes fd when the test ends, unless the test closed it already:
// a test that hangs up by closing one end must not have its cleanup close the
// same number again, which by then may be a parallel test's socket (that test
// would see a hang-up it never caused, or lose its fd's registration and wait
// for an event that cannot come). The socket's inode tells the two apart.
func closeAtEnd(t testing.TB, fd int) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal("fstat:", err)
	}
	t.Cleanup(func() {
		var now unix.Stat_t
		if unix.Fstat(fd, &now) == nil && now.Ino == st.Ino && now.Dev == st.Dev {
			unix.Close(fd)
		}
	})
}

// socketPair returns both ends of a non-blocking AF_UNIX stream socketpair.
func socketPair(t testing.TB) (a, b int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal("socketpair:", err)
	}
	for _, fd := range fds {
		unix.CloseOnExec(fd)
		if err := unix.SetNonblock(fd, true); err != nil {
			t.Fatal(err)
		}
		closeAtEnd(t, fd)
	}
	return fds[0], fds[1]
}

// tcpPair connects a non-blocking client socket to a loopback listener and
// returns it with the accepted, non-blocking server side. sndbuf and rcvbuf,
// when > 0, shrink the client's send and the server's receive buffer so that
// the connection fills after a few KiB.
func tcpPair(t testing.TB, sndbuf, rcvbuf int) (client, server int) {
	t.Helper()
	ln, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal("socket:", err)
	}
	defer closeFd(ln)
	if rcvbuf > 0 { // set before listen so the accepted socket inherits it
		if err := unix.SetsockoptInt(ln, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Bind(ln, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal("bind:", err)
	}
	if err := unix.Listen(ln, 8); err != nil {
		t.Fatal("listen:", err)
	}
	sa, err := unix.Getsockname(ln)
	if err != nil {
		t.Fatal(err)
	}
	client, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal("socket:", err)
	}
	unix.CloseOnExec(client)
	closeAtEnd(t, client)
	if err := unix.SetNonblock(client, true); err != nil {
		t.Fatal(err)
	}
	if sndbuf > 0 {
		if err := unix.SetsockoptInt(client, unix.SOL_SOCKET, unix.SO_SNDBUF, sndbuf); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Connect(client, sa); err != nil && !errors.Is(err, unix.EINPROGRESS) {
		t.Fatal("connect:", err)
	}
	server, _, err = unix.Accept(ln) // ln is blocking: returns once the handshake is done
	if err != nil {
		t.Fatal("accept:", err)
	}
	unix.CloseOnExec(server)
	closeAtEnd(t, server)
	if err := unix.SetNonblock(server, true); err != nil {
		t.Fatal(err)
	}
	return client, server
}

func mustWrite(t testing.TB, fd int, s string) {
	t.Helper()
	if n, err := unix.Write(fd, []byte(s)); err != nil || n != len(s) {
		t.Fatalf("write(%d): %d, %v", fd, n, err)
	}
}

// readAll reads fd until EAGAIN or EOF and returns the byte count.
func readAll(t testing.TB, fd int) int {
	t.Helper()
	buf := make([]byte, 64<<10)
	total := 0
	for {
		n, err := unix.Read(fd, buf)
		if errors.Is(err, unix.EAGAIN) || n == 0 && err == nil {
			return total
		}
		if err != nil {
			t.Fatalf("read(%d): %v", fd, err)
		}
		total += n
	}
}

// collect gathers the flags reported for fd over at most d, stopping early
// once they include want (want 0: gather for the whole of d). It also
// returns how many events named fd.
func collect(t testing.TB, p *poller.Poller, fd int, want poller.Flags, d time.Duration) (poller.Flags, int) {
	t.Helper()
	var got poller.Flags
	count := 0
	events := make([]poller.Event, 16)
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return got, count
		}
		n, err := p.Wait(events, int(left/time.Millisecond)+1)
		if err != nil {
			t.Fatal("Wait:", err)
		}
		for _, ev := range events[:n] {
			if int(ev.Fd) == fd {
				got |= ev.Flags
				count++
			}
		}
		if want != 0 && got&want == want {
			return got, count
		}
	}
}

// expectEvent fails unless fd reports all of want within patience.
func expectEvent(t testing.TB, p *poller.Poller, fd int, want poller.Flags) poller.Flags {
	t.Helper()
	got, _ := collect(t, p, fd, want, patience)
	if got&want != want {
		t.Fatalf("fd %d: got flags %v, want at least %v", fd, got, want)
	}
	return got
}

// expectNone fails if any event for fd arrives within quiet.
func expectNone(t testing.TB, p *poller.Poller, fd int) {
	t.Helper()
	if got, n := collect(t, p, fd, 0, quiet); n != 0 {
		t.Fatalf("fd %d: unexpected %d event(s), flags %v", fd, n, got)
	}
}

// watchdog closes p if the test is still running after patience, so that a
// Wait(-1) that never returns fails with ErrClosed instead of hanging.
func watchdog(t testing.TB, p *poller.Poller) {
	timer := time.AfterFunc(patience, func() { p.Close() })
	t.Cleanup(func() { timer.Stop() })
}

// assertWakeConsumed fails if a wake-up is still pending after Wait.
func assertWakeConsumed(t testing.TB, p *poller.Poller) {
	t.Helper()
	if ok, err := poller.WakeConsumed(p); err != nil || !ok {
		t.Fatalf("wake-up still pending after Wait (%v)", err)
	}
}
