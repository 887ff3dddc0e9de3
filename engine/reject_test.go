package engine

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// A rejected handshake's answer reaches a client that keeps sending: the server
// half-closes after the 4xx and drains input for a while before closing, so no
// RST (sent when a socket closes with unread input) eats the answer.
func TestRejectSurvivesPipelinedGarbage(t *testing.T) {
	forModes(t, func(t *testing.T, cfg Config) {
		_, addr := startServer(t, newEcho(), cfg, nil)
		for range 3 {
			nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(20 * time.Second))
			req := "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 99\r\n\r\n"
			garbage := make([]byte, 1<<20)
			for i := range garbage {
				garbage[i] = byte('a' + i%26)
			}
			wrote := make(chan error, 1)
			go func() {
				_, err := io.WriteString(nc, req+string(garbage))
				wrote <- err
			}()
			// Read only once the client has sent it all: the server must have
			// drained it, not reset the connection under it.
			if err := <-wrote; err != nil {
				t.Fatalf("sending after the request: %v (the server reset the connection)", err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
			if err != nil {
				t.Fatalf("reading the rejection: %v", err)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("reading the rejection's body: %v", err)
			}
			if resp.StatusCode != http.StatusUpgradeRequired || len(body) == 0 {
				t.Fatalf("status %d body %q", resp.StatusCode, body)
			}
			// Then a clean end (the server's half-close), not an RST.
			if n, err := nc.Read(make([]byte, 1)); n != 0 || err != io.EOF {
				t.Fatalf("after the answer: %d bytes, %v; want EOF", n, err)
			}
			nc.Close()
		}
	})
}
