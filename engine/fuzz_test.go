package engine

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/weir-ws/weir/frame"
)

// fuzzEcho echoes every message and records nothing (a fuzzer makes thousands
// of connections).
type fuzzEcho struct{ NopHandler }

func (fuzzEcho) OnMessage(c *Conn, op frame.Opcode, p []byte) { c.WriteMessage(op, p) }

// FuzzReader sends arbitrary bytes, as a client's frames after a valid
// handshake, to a real server over TCP, then half-closes. Whatever the bytes, the
// server must not panic or hang: it must end the connection, and everything it
// sends must be well-formed server frames (unmasked, no RSV bits without an
// extension, whole text messages that are valid UTF-8, control frames of at most
// 125 bytes), with at most one close frame, last, whose code may be sent on the
// wire (RFC 6455 §5, §7.4).
func FuzzReader(f *testing.F) {
	m := func(fin bool, op frame.Opcode, rsv uint8, p string) []byte {
		return frameBytes(fin, op, rsv, []byte(p), true)
	}
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	f.Add(m(true, frame.OpText, 0, "hello"))
	f.Add(cat(m(false, frame.OpText, 0, "frag"), m(true, frame.OpContinuation, 0, "ment")))
	f.Add(cat(m(true, frame.OpPing, 0, "p"), m(true, frame.OpBinary, 0, "\x00\xff")))
	f.Add(m(true, frame.OpClose, 0, "\x03\xe8bye"))
	f.Add(m(true, frame.OpText, 0, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"))
	f.Add(m(true, frame.Opcode(3), 0, ""))
	f.Add(m(true, frame.OpText, frame.Rsv1, "x"))
	f.Add(frameBytes(true, frame.OpText, 0, []byte("unmasked"), false))
	f.Add(cat(m(false, frame.OpBinary, 0, "a"), m(true, frame.OpText, 0, "b")))
	f.Add([]byte{0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4})

	_, addr := startServer(f, fuzzEcho{}, Config{
		MaxMessageSize: 1 << 20, CloseTimeout: time.Second, HandshakeTimeout: 2 * time.Second,
	}, nil)
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n"

	f.Fuzz(func(t *testing.T, in []byte) {
		nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		wrote := make(chan error, 1)
		go func() {
			_, err := nc.Write(append([]byte(req), in...))
			nc.(*net.TCPConn).CloseWrite()
			wrote <- err
		}()
		br := bufio.NewReader(nc)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("handshake response: %v", err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("handshake status %d", resp.StatusCode)
		}
		rc := &rawClient{t: t, nc: nc, br: br}
		sawClose := false
		for {
			h, p, err := rc.readFrame()
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					t.Fatal("the server neither closed nor finished the connection (hang)")
				}
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
					if errors.Is(err, io.ErrUnexpectedEOF) {
						t.Fatal("the server's output ends inside a frame")
					}
					break
				}
				t.Fatalf("server frame: %v", err)
			}
			switch {
			case sawClose:
				t.Fatalf("a %v frame after the close frame", h.Opcode)
			case h.Masked:
				t.Fatal("server frame is masked")
			case h.Rsv != 0:
				t.Fatalf("server frame has RSV bits %x with no extension", h.Rsv)
			case h.Opcode.IsControl() && (!h.Fin || len(p) > frame.MaxControlPayload):
				t.Fatalf("bad control frame: fin %v, %d bytes", h.Fin, len(p))
			case h.Opcode == frame.OpClose:
				sawClose = true
				if len(p) > 0 {
					code, _, err := frame.ParseClose(p)
					if err != nil || !code.IsValidOnWire() {
						t.Fatalf("close payload %x: code %d, %v", p, code, err)
					}
				}
			case h.Opcode == frame.OpText || h.Opcode == frame.OpBinary:
				if !h.Fin {
					t.Fatal("echo sent a fragment")
				}
				if h.Opcode == frame.OpText && !utf8.Valid(p) {
					t.Fatal("echoed text is not UTF-8")
				}
			case h.Opcode == frame.OpPong:
			default:
				t.Fatalf("unexpected server frame %v", h.Opcode)
			}
		}
		<-wrote
	})
}

// isReset reports a connection reset: the server closed with input unread (after
// failing the connection, or on EOF with bytes still queued), which ends the
// connection as surely as a FIN.
func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }
