package engine

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const emfileEnv = "WEIR_EMFILE_CHILD"

// TestHelperEMFILE is the child process of TestAcceptAfterEMFILE: a server whose
// process can open only two more fds, plus two spare ones it closes when told
// "free" on stdin. Run directly it does nothing.
func TestHelperEMFILE(t *testing.T) {
	if os.Getenv(emfileEnv) == "" {
		return
	}
	cfg := Config{Loops: 1, Dispatch: DispatchInline, PingInterval: -1, TimerResolution: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s, err := NewServer(newEcho(), &cfg, nil)
	if err == nil {
		err = s.Listen("127.0.0.1:0")
	}
	if err != nil {
		os.Stdout.WriteString("ERROR " + err.Error() + "\n")
		os.Exit(2)
	}
	ents, _ := os.ReadDir("/proc/self/fd")
	open := uint64(len(ents)) // one of them was ReadDir's own, closed again
	lim := unix.Rlimit{Cur: open + 3, Max: open + 3}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		os.Stdout.WriteString("ERROR " + err.Error() + "\n")
		os.Exit(2)
	}
	var spare []int
	for range 2 {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			spare = append(spare, fd)
		}
	}
	os.Stdout.WriteString("ADDR " + s.Addr().String() + "\n")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if sc.Text() == "free" {
			for _, fd := range spare {
				unix.Close(fd)
			}
			os.Stdout.WriteString("FREED\n")
		}
	}
	os.Exit(0)
}

// TestAcceptAfterEMFILE: a connection that waits in the backlog because the
// process ran out of fds is accepted once fds are free again, without another
// connection arriving to make the (edge-triggered) listener report again.
func TestAcceptAfterEMFILE(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperEMFILE$", "-test.count=1")
	cmd.Env = append(os.Environ(), emfileEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, stdout := startPiped(t, cmd)
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	next := func() string {
		if !lines.Scan() {
			t.Fatal("child ended")
		}
		return lines.Text()
	}
	addr, ok := strings.CutPrefix(next(), "ADDR ")
	if !ok {
		t.Fatalf("child: %s", addr)
	}
	// Fill the child's fds: one connection takes the last free one (its spares
	// hold the rest); later ones wait in the backlog.
	var waiting []net.Conn
	handshake := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	answered := func(nc net.Conn, d time.Duration) bool {
		nc.SetReadDeadline(time.Now().Add(d))
		line, err := bufio.NewReader(nc).ReadString('\n')
		return err == nil && strings.Contains(line, "101")
	}
	for i := range 4 {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		nc.Write([]byte(handshake))
		if !answered(nc, 300*time.Millisecond) {
			waiting = append(waiting, nc)
			continue
		}
		if i == 3 {
			t.Skip("the child never ran out of fds")
		}
	}
	if len(waiting) == 0 {
		t.Skip("the child never ran out of fds")
	}
	io.WriteString(stdin, "free\n")
	if got := next(); got != "FREED" {
		t.Fatalf("child: %s", got)
	}
	if !answered(waiting[0], 5*time.Second) {
		t.Fatal("a connection left in the backlog by EMFILE was not accepted once fds were free")
	}
}
