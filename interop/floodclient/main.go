// Command floodclient is the attackers of TestAttackNeverReads, in a process
// of their own: on the internet they are on other machines, and on a test box
// of two cores their sending, and the loopback's delivery that the kernel
// does on the sender's account, took the CPU the server under attack needed
// (the server's threads waited 438 ms for a CPU during one 127 ms probe). The
// test starts it at the lowest priority (nice 19) so that what a fresh client
// measures is the server, not the scheduler.
//
// It opens -n connections to -addr, each with a 4 KiB receive buffer, and
// completes their WebSocket handshakes, then prints "ready". On a line "go"
// on its stdin every connection sends masked binary messages of -size bytes
// as fast as the server takes them, for -for, and never reads; then it prints
// "sent N" (messages written whole) and waits for stdin to close, keeping the
// connections open until then. On a failure it prints "error" and the reason
// and exits 1.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/weir-ws/weir/frame"
)

func main() {
	addr := flag.String("addr", "", "host:port of the server")
	n := flag.Int("n", 200, "connections")
	size := flag.Int("size", 64<<10, "message size")
	dur := flag.Duration("for", 10*time.Second, "how long to send")
	flag.Parse()
	conns, err := open(*addr, *n)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	if !in.Scan() || in.Text() != "go" {
		os.Exit(0)
	}
	payload := bytes.Repeat([]byte("never reads "), *size/12+1)[:*size]
	mask := [4]byte{1, 2, 3, 4}
	msg := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Length: int64(*size), Masked: true, Mask: mask})
	msg = append(msg, payload...)
	frame.Mask(mask, 0, msg[len(msg)-*size:])
	end := time.Now().Add(*dur)
	var sent atomic.Int64
	var wg sync.WaitGroup
	for _, nc := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc.SetWriteDeadline(end)
			for time.Now().Before(end) {
				if _, err := nc.Write(msg); err != nil {
					return
				}
				sent.Add(1)
			}
		}()
	}
	wg.Wait()
	fmt.Println("sent", sent.Load())
	for in.Scan() {
	}
}

// open dials n connections, 64 at a time, and completes their handshakes.
func open(addr string, n int) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			nc, err := handshake(addr)
			if err != nil {
				errs <- err
				return
			}
			conns[i] = nc
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
		return conns, nil
	}
}

// handshake dials addr with a small receive buffer, as an attacker that never
// reads would choose (the server's output backs up at once), and upgrades.
func handshake(addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(nc, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("handshake: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || br.Buffered() != 0 {
		nc.Close()
		return nil, fmt.Errorf("handshake: status %d, %d bytes after it", resp.StatusCode, br.Buffered())
	}
	nc.SetDeadline(time.Time{})
	return nc, nil
}
