// Command freshclient is the fresh client of the attack cases: in a process of
// its own, so that what it measures is the server under attack, not the
// scheduler of the test process whose goroutines are the attackers. Every
// -every it dials -addr, completes a WebSocket handshake, sends a text message
// and waits for its echo (skipping any other message, such as a broadcast),
// then prints the time all that took, in nanoseconds, one line each; on a
// failure it prints "error" and the reason and exits 1. A probe slower than
// -phases is broken down on stderr: dial, handshake, echo, and how long this
// process's threads (and, with -server-pid, the server's) waited for a CPU.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "", "host:port of the server")
	every := flag.Duration("every", time.Second, "time between probes")
	count := flag.Int("count", 10, "number of probes")
	flag.IntVar(&serverPID, "server-pid", 0, "the server's pid: a slow probe's breakdown says how long its threads waited to run")
	flag.Parse()
	for i := range *count {
		if i > 0 {
			time.Sleep(*every)
		}
		d, err := probe(*addr)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println(d.Nanoseconds())
	}
}

const text = "still there?"

var serverPID int

// sched is the time the threads of process pid ("self" for 0) have spent
// running and runnable but waiting for a CPU, summed over threads (the first
// two fields of each /proc/PID/task/TID/schedstat); zero where the kernel
// does not report them. A slow probe during which the server's threads
// waited for a CPU longer than they ran was slowed by the machine, not by
// what the server did; a client that waited as long as the probe took was
// itself not running.
func sched(pid int) (run, wait time.Duration) {
	dir := "/proc/self/task"
	if pid > 0 {
		dir = fmt.Sprintf("/proc/%d/task", pid)
	}
	tasks, _ := os.ReadDir(dir)
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/schedstat")
		if err != nil {
			continue
		}
		var r, w int64
		fmt.Sscan(string(b), &r, &w)
		run, wait = run+time.Duration(r), wait+time.Duration(w)
	}
	return run, wait
}

// phases: a probe that took at least this long is broken down on stderr
// (dial, handshake, echo), so a slow one says where its time went.
var phases = flag.Duration("phases", 20*time.Millisecond, "break down probes at least this long on stderr (0: never)")

// probe runs one handshake and echo.
func probe(addr string) (time.Duration, error) {
	_, waitSelf := sched(0)
	runServer, waitServer := sched(serverPID)
	start := time.Now()
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	connected := time.Now()
	fmt.Fprintf(nc, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	dialed := time.Now()
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, fmt.Errorf("handshake: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return 0, fmt.Errorf("handshake: status %d", resp.StatusCode)
	}
	upgraded := time.Now()
	// A masked text frame (RFC 6455 §5.2, §5.3: a client masks every frame).
	mask := [4]byte{1, 2, 3, 4}
	f := append([]byte{0x81, 0x80 | byte(len(text))}, mask[:]...)
	for i := range len(text) {
		f = append(f, text[i]^mask[i%4])
	}
	if _, err := nc.Write(f); err != nil {
		return 0, err
	}
	for {
		op, p, err := readFrame(br)
		if err != nil {
			return 0, fmt.Errorf("echo: %w", err)
		}
		if op == 0x1 {
			if string(p) != text {
				return 0, fmt.Errorf("echo: %q", p)
			}
			d := time.Since(start)
			if *phases > 0 && d >= *phases {
				_, ws := sched(0)
				rs, wsv := sched(serverPID)
				fmt.Fprintf(os.Stderr, "freshclient: probe took %v: dial %v (connect %v), handshake %v, echo %v; run-queue wait: this client's threads %v, the server's %v (the server ran %v)\n",
					d, dialed.Sub(start), connected.Sub(start), upgraded.Sub(dialed), time.Since(upgraded),
					ws-waitSelf, wsv-waitServer, rs-runServer)
			}
			return d, nil
		}
		if op == 0x8 {
			return 0, fmt.Errorf("echo: the server closed (%x)", p)
		}
	}
}

// readFrame reads one unmasked server frame (any size: broadcasts are skipped).
func readFrame(br *bufio.Reader) (byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 16<<20 {
		return 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	p := make([]byte, n)
	_, err := io.ReadFull(br, p)
	return h[0] & 0x0f, p, err
}
