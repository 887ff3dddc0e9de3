package interop

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// Hand-made peers for the bad-peer suite: exact bytes over real TCP sockets.

const rawKey = "dGhlIHNhbXBsZSBub25jZQ==" // RFC 6455 §1.3's sample nonce

// In drip mode every byte is its own write; the first dripSlow bytes are also
// paced dripGap apart, so that the reader sees them one by one (past that, a
// long input such as an oversized header goes out unpaced, in 1-byte writes).
const (
	dripGap  = time.Millisecond
	dripSlow = 1024
)

// rawConn is one hand-driven TCP connection. Its reads run on a goroutine
// (rawHandshake, startFrames), so that an answer that comes early, before the
// other side hangs up, is read even when a later write fails.
type rawConn struct {
	nc      net.Conn
	br      *bufio.Reader
	drip    bool
	dripped int // bytes paced so far
	lines   chan readResult
}

type readResult struct {
	h   frame.Header
	p   []byte
	err error
}

func newRawConn(nc net.Conn, drip bool) *rawConn {
	return &rawConn{nc: nc, br: bufio.NewReaderSize(nc, 64<<10), drip: drip}
}

// write sends b at once, or one byte at a time in drip mode.
func (r *rawConn) write(b []byte) error {
	if !r.drip {
		_, err := r.nc.Write(b)
		return err
	}
	for i := range b {
		if _, err := r.nc.Write(b[i : i+1]); err != nil {
			return err
		}
		if r.dripped < dripSlow {
			r.dripped++
			time.Sleep(dripGap)
		}
	}
	return nil
}

// frames reads frames on a goroutine from now on (after the handshake).
func (r *rawConn) startFrames() {
	r.lines = make(chan readResult, 64)
	go func() {
		for {
			h, p, err := readFrame(r.br)
			r.lines <- readResult{h, p, err}
			if err != nil {
				close(r.lines)
				return
			}
		}
	}()
}

// next returns the next frame read, or an error after timeout.
func (r *rawConn) next(timeout time.Duration) (frame.Header, []byte, error) {
	select {
	case res, ok := <-r.lines:
		if !ok {
			return frame.Header{}, nil, io.EOF
		}
		return res.h, res.p, res.err
	case <-time.After(timeout):
		return frame.Header{}, nil, errTimeout
	}
}

var errTimeout = errors.New("timed out")

// expectClose reads until a close frame and returns its code and reason.
func (r *rawConn) expectClose(timeout time.Duration) (frame.StatusCode, string, error) {
	deadline := time.Now().Add(timeout)
	for {
		h, p, err := r.next(time.Until(deadline))
		if err != nil {
			return 0, "", fmt.Errorf("waiting for a close frame: %w", err)
		}
		if h.Opcode != frame.OpClose {
			continue
		}
		code, reason, err := frame.ParseClose(p)
		if err != nil {
			return 0, "", fmt.Errorf("bad close payload %x: %w", p, err)
		}
		return code, string(reason), nil
	}
}

// expectEOF waits until the other side closes the TCP connection.
func (r *rawConn) expectEOF(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		_, _, err := r.next(time.Until(deadline))
		if err == errTimeout {
			return errors.New("the TCP connection stayed open")
		}
		if err != nil {
			return nil
		}
	}
}

// expectMessage reads a whole data message, skipping control frames.
func (r *rawConn) expectMessage(timeout time.Duration) (frame.Opcode, []byte, error) {
	deadline := time.Now().Add(timeout)
	var op frame.Opcode
	var msg []byte
	for {
		h, p, err := r.next(time.Until(deadline))
		if err != nil {
			return 0, nil, err
		}
		switch {
		case h.Opcode == frame.OpClose:
			code, reason, _ := frame.ParseClose(p)
			return 0, nil, fmt.Errorf("close %d %q instead of a message", code, reason)
		case h.Opcode.IsControl():
			continue
		case h.Opcode != frame.OpContinuation:
			op = h.Opcode
		}
		msg = append(msg, p...)
		if h.Fin {
			return op, msg, nil
		}
	}
}

func readFrame(br *bufio.Reader) (frame.Header, []byte, error) {
	var hb [frame.MaxHeaderSize]byte
	n := 2
	if _, err := io.ReadFull(br, hb[:n]); err != nil {
		return frame.Header{}, nil, err
	}
	for {
		h, size, err := frame.ParseHeader(hb[:n])
		if err == frame.ErrShortHeader {
			if _, err := io.ReadFull(br, hb[n:size]); err != nil {
				return frame.Header{}, nil, err
			}
			n = size
			continue
		}
		if err != nil {
			return h, nil, err
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(br, p); err != nil {
			return h, nil, err
		}
		if h.Masked {
			frame.Mask(h.Mask, 0, p)
		}
		return h, p, nil
	}
}

// wireFrame encodes one frame; masked frames use a fixed key.
func wireFrame(fin bool, op frame.Opcode, rsv uint8, p []byte, masked bool) []byte {
	h := frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Length: int64(len(p)), Masked: masked, Mask: [4]byte{0x37, 0xfa, 0x21, 0x3d}}
	b := frame.AppendHeader(nil, h)
	start := len(b)
	b = append(b, p...)
	if masked {
		frame.Mask(h.Mask, 0, b[start:])
	}
	return b
}

// cf is a masked client frame, sf an unmasked server frame.
func cf(fin bool, op frame.Opcode, p []byte) []byte { return wireFrame(fin, op, 0, p, true) }
func sf(fin bool, op frame.Opcode, p []byte) []byte { return wireFrame(fin, op, 0, p, false) }

// closePayload is a close frame's payload: code then reason, raw.
func closePayload(code uint16, reason string) []byte {
	return append([]byte{byte(code >> 8), byte(code)}, reason...)
}

// hreq is an opening handshake request to edit field by field.
type hreq struct {
	line   string
	fields [][2]string
	body   string
}

func stdReq() hreq {
	return hreq{line: "GET /ws HTTP/1.1", fields: [][2]string{
		{"Host", "{host}"}, {"Upgrade", "websocket"}, {"Connection", "Upgrade"},
		{"Sec-WebSocket-Key", rawKey}, {"Sec-WebSocket-Version", "13"},
	}}
}

// set replaces the field (or adds it).
func (r hreq) set(name, value string) hreq {
	f := make([][2]string, 0, len(r.fields)+1)
	found := false
	for _, kv := range r.fields {
		if strings.EqualFold(kv[0], name) {
			kv[1], found = value, true
		}
		f = append(f, kv)
	}
	if !found {
		f = append(f, [2]string{name, value})
	}
	r.fields = f
	return r
}

// add appends a field line as given (duplicates, odd syntax).
func (r hreq) add(raw string) hreq {
	r.fields = append(append([][2]string(nil), r.fields...), [2]string{raw, "\x00raw"})
	return r
}

func (r hreq) del(name string) hreq {
	var f [][2]string
	for _, kv := range r.fields {
		if !strings.EqualFold(kv[0], name) {
			f = append(f, kv)
		}
	}
	r.fields = f
	return r
}

func (r hreq) withLine(l string) hreq { r.line = l; return r }
func (r hreq) withBody(b string) hreq { r.body = b; return r }

func (r hreq) bytes(host string) []byte {
	var sb strings.Builder
	sb.WriteString(r.line + "\r\n")
	for _, kv := range r.fields {
		if kv[1] == "\x00raw" {
			sb.WriteString(kv[0] + "\r\n")
			continue
		}
		sb.WriteString(kv[0] + ": " + strings.ReplaceAll(kv[1], "{host}", host) + "\r\n")
	}
	sb.WriteString("\r\n" + r.body)
	return []byte(sb.String())
}

// rawHandshake connects to addr, sends req (dripped or not) and reads the answer.
// The answer is read concurrently with the write.
func rawHandshake(addr string, req []byte, drip bool) (*rawConn, *http.Response, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	return rawHandshakeOn(nc, req, drip)
}

// rawHandshakeOn is rawHandshake on a connection the caller dialled.
func rawHandshakeOn(nc net.Conn, req []byte, drip bool) (*rawConn, *http.Response, error) {
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	r := newRawConn(nc, drip)
	type answer struct {
		resp *http.Response
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		resp, err := http.ReadResponse(r.br, nil)
		ch <- answer{resp, err}
	}()
	werr := r.write(req)
	a := <-ch
	if a.err != nil {
		nc.Close()
		if werr != nil {
			return nil, nil, fmt.Errorf("write: %v; read: %w", werr, a.err)
		}
		return nil, nil, a.err
	}
	nc.SetDeadline(time.Time{})
	return r, a.resp, nil
}

// rawServer accepts connections on 127.0.0.1:0 and serves each with handle once
// the request has been read.
type rawServer struct {
	ln net.Listener
}

func newRawServer(handle func(nc net.Conn, br *bufio.Reader, req *http.Request)) (*rawServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				br := bufio.NewReader(nc)
				req, err := http.ReadRequest(br)
				if err != nil {
					nc.Close()
					return
				}
				handle(nc, br, req)
			}()
		}
	}()
	return &rawServer{ln: ln}, nil
}

func (s *rawServer) url() string { return "ws://" + s.ln.Addr().String() + "/ws" }
func (s *rawServer) close()      { s.ln.Close() }

// accept101 is a correct 101 answer to key, with extra lines.
func accept101(key string, extra ...string) string {
	s := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + upgrade.AcceptKey(key) + "\r\n"
	for _, e := range extra {
		s += e + "\r\n"
	}
	return s + "\r\n"
}
