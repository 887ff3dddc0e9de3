package engine

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// A hostile server against the client: a raw TCP listener answers the
// handshake with a right 101 (plus extra, e.g. an extension answer), then
// run plays the server on the socket.

func cliHostileServer(t testing.TB, extra string, run func(nc net.Conn, br *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				br := bufio.NewReader(nc)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				fmt.Fprintf(nc, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
					"Sec-WebSocket-Accept: %s\r\n%s\r\n", upgrade.AcceptKey(req.Header.Get("Sec-WebSocket-Key")), extra)
				run(nc, br)
			}()
		}
	}()
	return ln.Addr().String()
}

// A compressed frame that inflates past MaxMessageSize fails the client's
// connection with 1009 (RFC 7692 §8.2 leaves the limit to the endpoint).
func TestClientDeflateBomb(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		addr := cliHostileServer(t, "Sec-WebSocket-Extensions: permessage-deflate\r\n", func(nc net.Conn, _ *bufio.Reader) {
			nc.Write(frameBytes(true, frame.OpBinary, frame.Rsv1, bomb(t, 10<<20), false))
			io.Copy(io.Discard, nc)
		})
		cfg.MaxMessageSize = 64 << 10
		h := newEcho()
		cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", &DialOptions{Handler: h, Compression: &deflate.Options{}})
		if r := h.waitClose(t); r.code != frame.StatusMessageTooBig || !errors.Is(r.err, deflate.ErrMessageTooBig) {
			t.Fatalf("OnClose = %d %v, want 1009 deflate.ErrMessageTooBig", r.code, r.err)
		}
	})
}

// Frames in the same write as the 101 reach the client as Dial's head (bytes
// read past the response), not through a read of the socket: they get the
// same checks and the same answers.
func TestClientHeadFramesChecked(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		cfg   Config
		input []byte
		code  frame.StatusCode
		err   error
	}{
		{"masked frame", Config{}, frameBytes(true, frame.OpText, 0, []byte("hi"), true), 1002, ErrMaskedFrame},
		{"rsv1 without deflate", Config{}, frameBytes(true, frame.OpText, frame.Rsv1, []byte("hi"), false), 1002, ErrUnexpectedRSV},
		{"bad utf-8", Config{}, frameBytes(true, frame.OpText, 0, []byte{'a', 0xff}, false), 1007, ErrTextNotUTF8},
		{"close code 1005", Config{}, frameBytes(true, frame.OpClose, 0, []byte{0x03, 0xed}, false), 1002, frame.ErrInvalidCloseCode},
		{"close reason not utf-8", Config{}, frameBytes(true, frame.OpClose, 0, []byte{0x03, 0xe8, 0xff}, false), 1007, frame.ErrInvalidUTF8},
		{"frame over MaxFrameSize", Config{MaxFrameSize: 100}, frameBytes(true, frame.OpBinary, 0, make([]byte, 101), false), 1009, ErrFrameTooBig},
		{"1 GiB frame header", Config{}, []byte{0x82, 0x7f, 0, 0, 0, 0, 0x40, 0, 0, 0}, 1009, ErrFrameTooBig},
		{"message over MaxMessageSize", Config{MaxMessageSize: 100}, append(
			frameBytes(false, frame.OpBinary, 0, make([]byte, 60), false),
			frameBytes(true, frame.OpContinuation, 0, make([]byte, 60), false)...), 1009, ErrMessageTooBig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				cfg.MaxFrameSize, cfg.MaxMessageSize = tc.cfg.MaxFrameSize, tc.cfg.MaxMessageSize
				got := make(chan []byte, 1)
				addr := cliHostileHead(t, tc.input, got)
				h := newEcho()
				cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", &DialOptions{Handler: h})
				if r := h.waitClose(t); r.code != tc.code || !errors.Is(r.err, tc.err) {
					t.Fatalf("OnClose = %d %v, want %d %v", r.code, r.err, tc.code, tc.err)
				}
				b := cliRecv(t, got, "what the client sent")
				h2, _, err := frame.ParseHeader(b)
				if err != nil || h2.Opcode != frame.OpClose || !h2.Masked || len(b) < 8 {
					t.Fatalf("the client sent %x (%v), want a masked close frame", b, err)
				}
				p := append([]byte(nil), b[6:8]...)
				frame.Mask(h2.Mask, 0, p)
				if code := frame.StatusCode(p[0])<<8 | frame.StatusCode(p[1]); code != tc.code {
					t.Fatalf("the client's close frame says %d, want %d", code, tc.code)
				}
			})
		})
	}
}

// cliHostileHead answers the handshake with a 101 and input in one write, then
// sends on got what the client writes until it hangs up.
func cliHostileHead(t testing.TB, input []byte, got chan<- []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		br := bufio.NewReader(nc)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		resp := fmt.Sprintf("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Accept: %s\r\n\r\n", upgrade.AcceptKey(req.Header.Get("Sec-WebSocket-Key")))
		nc.Write(append([]byte(resp), input...))
		nc.SetReadDeadline(time.Now().Add(cliWait))
		b, _ := io.ReadAll(br)
		got <- b
	}()
	return ln.Addr().String()
}
