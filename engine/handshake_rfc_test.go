package engine

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// rawHandshake sends request line and fields as they are on a new TCP
// connection to addr and reads the answer.
func rawHandshake(t *testing.T, addr, line string, fields ...string) (*rawClient, *http.Response) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return sendRequest(t, nc, line, fields...)
}

// TestHandshakeRFCLenient: requests the RFCs call valid get 101 from a
// Server in every mode, and the connection works: an absolute-form target
// (RFC 9112 §3.2.2, RFC 6455 §4.2.1) whose path passes the path filter, and
// empty list elements (RFC 9110 §5.6.1) in Upgrade, Connection and
// Sec-WebSocket-Extensions, compression still negotiated.
func TestHandshakeRFCLenient(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, line string
		fields     []string
		compressed bool
	}{
		{"absolute-form", "GET http://weir.example/chat?room=1 HTTP/1.1", []string{"Host: proxy.example"}, false},
		{"empty list elements", "GET /chat HTTP/1.1", []string{"Host: weir.example", "Sec-WebSocket-Extensions: , permessage-deflate,"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				cfg.Compression = &deflate.Options{Threshold: -1}
				_, addr := startServer(t, newEcho(), cfg, &upgrade.Upgrader{Path: "/chat"})
				fields := append([]string{"Upgrade: , websocket", "Connection: keep-alive, , Upgrade", "Sec-WebSocket-Key: " + testKey, "Sec-WebSocket-Version: 13"}, tc.fields...)
				rc, resp := rawHandshake(t, addr, tc.line, fields...)
				if resp.StatusCode != 101 {
					body, _ := io.ReadAll(resp.Body)
					t.Fatalf("status %d: %s", resp.StatusCode, body)
				}
				if got := resp.Header.Get("Sec-WebSocket-Extensions") != ""; got != tc.compressed {
					t.Fatalf("extensions %q", resp.Header.Get("Sec-WebSocket-Extensions"))
				}
				rsv, payload := uint8(0), []byte("Hello")
				if tc.compressed {
					rsv, payload = frame.Rsv1, compressedHello
				}
				rc.write(frameBytes(true, frame.OpText, rsv, payload, true))
				h, p, err := rc.readFrame()
				if err != nil || h.Opcode != frame.OpText || h.Rsv != rsv {
					t.Fatalf("echo: %+v %v", h, err)
				}
				if tc.compressed {
					if p, err = deflate.Decompress(nil, p, 1<<10); err != nil {
						t.Fatal(err)
					}
				}
				if string(p) != "Hello" {
					t.Fatalf("echo %q", p)
				}
			})
		})
	}
}
