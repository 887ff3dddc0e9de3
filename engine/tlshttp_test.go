package engine

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/tlshand"
)

// wss hijacked from an http.Server on a TLSListener (issue #17): on the
// loops with the record layer, with net/http serving everything else.

// upgraded through net/http, are echoed on the loops, with their TLS state.
func TestTLSListenerEcho(t *testing.T) {
	t.Parallel()
	ls := startLate(t, Config{}, nil)
	rc := dialRawTLS(t, ls.addr, nil)
	if o := ls.h.open(t); !o.loop || !o.stateOK || o.version != tls.VersionTLS13 || o.server != "localhost" {
		t.Fatalf("crypto/tls client: %+v", o)
	}
	echoSizes(t, rc)
	rc.send(true, frame.OpClose, []byte{0x03, 0xe8})
	rc.expectClose(1000)

	c := cliDial(t, cliClient(t, nil, Config{}), "wss://"+ls.addr+"/", &DialOptions{TLSConfig: clientTLS(t)})
	if o := ls.h.open(t); !o.loop || !o.stateOK {
		t.Fatalf("weir client: %+v", o)
	}
	for _, n := range []int{0, 1, 125, 65536, 1 << 20} {
		msg := bytes.Repeat([]byte{byte(n)}, n)
		if err := c.WriteMessage(frame.OpBinary, msg); err != nil {
			t.Fatal(err)
		}
		op, got, err := c.ReadMessage(context.Background())
		if err != nil || op != frame.OpBinary || !bytes.Equal(got, msg) {
			t.Fatalf("size %d: %v %v %d bytes", n, err, op, len(got))
		}
	}
	c.Close(1000, "")
	if m := ls.s.TLSMetrics(); m.Loop != 2 || m.Goroutine != 0 {
		t.Fatalf("TLS metrics %+v", m)
	}
	ls.noLeak(t)
}

// TestTLSListenerNoGoroutinePerConn: 50 upgraded connections cost no
// goroutine each once net/http has let them go.
func TestTLSListenerNoGoroutinePerConn(t *testing.T) {
	// Not parallel: it counts the process's goroutines.
	ls := startLate(t, Config{}, nil)
	warm := dialRawTLS(t, ls.addr, nil) // the loops and their helpers are up
	ls.h.open(t)
	settle := func(limit int) int {
		var n int
		for range 1000 { // up to 10 s on a busy machine
			if n = runtime.NumGoroutine(); n <= limit {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		return n
	}
	before := settle(0)
	const N = 50
	conns := make([]*rawClient, N)
	for i := range conns {
		conns[i] = dialRawTLS(t, ls.addr, nil)
		if o := ls.h.open(t); !o.loop {
			t.Fatalf("connection %d not on the loops: %+v", i, o)
		}
	}
	// The net/http goroutines end as their handlers return.
	if after := settle(before + N/5); after > before+N/5 {
		t.Fatalf("goroutines %d before, %d with %d connections open", before, after, N)
	}
	for _, rc := range append(conns, warm) {
		rc.send(true, frame.OpText, []byte("still here"))
		if _, got := rc.readMessage(); string(got) != "still here" {
			t.Fatalf("echo %q", got)
		}
		rc.nc.Close()
	}
	ls.noLeak(t)
}

// heldConn holds what the client writes once hold is set, until flush: so
// that records end up in one TCP write.
type heldConn struct {
	net.Conn
	hold bool
	buf  []byte
}

func (c *heldConn) Write(p []byte) (int, error) {
	if c.hold {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func (c *heldConn) flush() error {
	c.hold = false
	_, err := c.Conn.Write(c.buf)
	c.buf = nil
	return err
}

// TestTLSListenerReadAhead: the first frame comes with the request: in its
// record (also one larger than net/http's buffer, whose rest crypto/tls
// holds decrypted), in the next two records of the same TCP write, or with
// the client's Finished, request and frame all in one write (read ahead by
// the handshake: what crypto/tls has not taken is the record layer's
// Leftover). Each is echoed, on the loops.
func TestTLSListenerReadAhead(t *testing.T) {
	t.Parallel()
	ls := startLate(t, Config{}, nil)
	req := "GET /ws HTTP/1.1\r\nHost: " + ls.addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	for _, how := range []string{"one record", "one record past net/http's buffer", "two records", "with the Finished"} {
		t.Run(how, func(t *testing.T) {
			raw, err := net.DialTimeout("tcp", ls.addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			hc := &heldConn{Conn: raw}
			tc := tls.Client(hc, clientTLS(t))
			t.Cleanup(func() { tc.Close() })
			tc.SetDeadline(time.Now().Add(20 * time.Second))
			msg := []byte("first, " + how)
			if how == "one record past net/http's buffer" {
				// net/http buffers 4 KiB: crypto/tls keeps the rest decrypted.
				msg = bytes.Repeat(msg, 12000/len(msg))
			}
			fb := frameBytes(true, frame.OpText, 0, msg, true)
			switch how {
			case "one record", "one record past net/http's buffer":
				err = tc.Handshake()
				if err == nil {
					_, err = tc.Write(append([]byte(req), fb...))
				}
			case "two records":
				err = tc.Handshake()
				hc.hold = true
				tc.Write([]byte(req))
				tc.Write(fb[:len(fb)/2]) // net/http's background read may take one record
				tc.Write(fb[len(fb)/2:])
				if err == nil {
					err = hc.flush()
				}
			case "with the Finished":
				// The ClientHello goes out; what follows is held.
				hc.Conn = &firstWrite{Conn: raw, then: func() { hc.hold = true }}
				err = tc.Handshake()
				tc.Write([]byte(req))
				tc.Write(fb[:len(fb)/2])
				tc.Write(fb[len(fb)/2:])
				if err == nil {
					err = hc.flush()
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(tc)
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != 101 {
				t.Fatalf("response %v %v", resp, err)
			}
			rc := &rawClient{t: t, nc: tc, br: br}
			if op, got := rc.readMessage(); op != frame.OpText || !bytes.Equal(got, msg) {
				t.Fatalf("echo %v %q", op, got)
			}
			if o := ls.h.open(t); !o.loop {
				t.Fatalf("not on the loops: %+v", o)
			}
			echoSizes(t, rc)
		})
	}
}

// firstWrite calls then after its first Write.
type firstWrite struct {
	net.Conn
	then func()
	done bool
}

func (c *firstWrite) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if !c.done {
		c.done = true
		c.then()
	}
	return n, err
}

// TestTLSListenerPlainHTTPS: net/http still serves the listener's other
// requests, over HTTP/1.1 keep-alive and HTTP/2, and they hold nothing once
// closed.
func TestTLSListenerPlainHTTPS(t *testing.T) {
	t.Parallel()
	ls := startLate(t, Config{}, func(c *tls.Config) { c.NextProtos = []string{"h2", "http/1.1"} })
	for _, h2 := range []bool{false, true} {
		tr := &http.Transport{TLSClientConfig: clientTLS(t), ForceAttemptHTTP2: h2}
		cl := &http.Client{Transport: tr, Timeout: 20 * time.Second}
		for i := range 3 {
			resp, err := cl.Post("https://"+ls.addr+"/plain?n=40000", "text/plain", strings.NewReader(strings.Repeat("y", 30000)))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if len(body) != 40000 || (resp.ProtoMajor == 2) != h2 {
				t.Fatalf("h2 %v, request %d: %d bytes over %s", h2, i, len(body), resp.Proto)
			}
		}
		tr.CloseIdleConnections()
	}
	ls.noLeak(t)
}

// TestTLSListenerKeepAliveUpgrade: requests and responses of many records
// (sequence numbers well past the handshake's) before the upgrade on the same
// connection.
func TestTLSListenerKeepAliveUpgrade(t *testing.T) {
	t.Parallel()
	ls := startLate(t, Config{}, nil)
	tc, br := ls.dialTLS(t)
	for i, n := range []int{5, 40000, 100, 70000} {
		body := strings.Repeat("z", n/2)
		fmt.Fprintf(tc, "POST /plain?n=%d HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", n, len(body), body)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		if len(got) != n {
			t.Fatalf("request %d: %d bytes", i, len(got))
		}
	}
	io.WriteString(tc, "GET /ws HTTP/1.1\r\nHost: "+ls.addr+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: "+testKey+"\r\nSec-WebSocket-Version: 13\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	if o := ls.h.open(t); !o.loop {
		t.Fatalf("not on the loops: %+v", o)
	}
	echoSizes(t, &rawClient{t: t, nc: tc, br: br})
	tc.Close()
	ls.noLeak(t)
}

// TestTLSListenerTLS12: a TLS 1.2 client stays in goroutine mode, and works.
func TestTLSListenerTLS12(t *testing.T) {
	t.Parallel()
	ls := startLate(t, Config{}, nil)
	cfg := clientTLS(t)
	cfg.MaxVersion = tls.VersionTLS12
	rc := dialRawTLS(t, ls.addr, cfg)
	if o := ls.h.open(t); o.loop || !o.stateOK || o.version != tls.VersionTLS12 {
		t.Fatalf("TLS 1.2: %+v", o)
	}
	echoSizes(t, rc)
	if m := ls.s.TLSMetrics(); m.Goroutine != 1 || m.Loop != 0 {
		t.Fatalf("TLS metrics %+v", m)
	}
	rc.nc.Close()
	ls.noLeak(t)
}

// TestTLSListenerKeyUpdate: a KeyUpdate from the client before the upgrade.
// Without update_requested crypto/tls only changes its receive key, which
// the shadow follows: on the loops. With it, crypto/tls answers with a
// KeyUpdate of its own, which the send count cannot follow: goroutine mode.
// Either way the echo works.
func TestTLSListenerKeyUpdate(t *testing.T) {
	t.Parallel()
	for _, requested := range []bool{false, true} {
		t.Run(fmt.Sprint("requested=", requested), func(t *testing.T) {
			t.Parallel()
			ls := startLate(t, Config{}, nil)
			c := dialRecords(t, ls.addr)
			get := func() {
				c.write(c.seal([]byte("GET /plain?n=3000 HTTP/1.1\r\nHost: x\r\n\r\n")))
				var got []byte
				for !bytes.HasSuffix(got, bytes.Repeat([]byte("x"), 3000)) {
					p, err := c.read()
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, p...)
				}
			}
			get()
			ku, err := c.w.AppendKeyUpdate(nil, requested)
			if err != nil {
				t.Fatal(err)
			}
			c.write(ku)
			get()
			c.upgrade(ls.addr)
			if o := ls.h.open(t); o.loop == requested {
				t.Fatalf("on the loops %v, want %v", o.loop, !requested)
			}
			for i := range 3 {
				msg := []byte{'m', byte('0' + i)}
				c.write(c.seal(frameBytes(true, frame.OpText, 0, msg, true)))
				var got []byte
				for !bytes.HasSuffix(got, msg) {
					p, err := c.read()
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, p...)
				}
			}
			c.nc.Close()
			ls.noLeak(t)
		})
	}
}

// TestTLSListenerFollowMax: past tlshand.FollowMax received before the
// upgrade the connection is crypto/tls's alone: goroutine mode, still echoing.
func TestTLSListenerFollowMax(t *testing.T) {
	t.Parallel()
	ls := startLate(t, Config{}, nil)
	tc, br := ls.dialTLS(t)
	body := strings.Repeat("u", tlshand.FollowMax+1)
	fmt.Fprintf(tc, "POST /plain HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	if n := ls.l.Live(); n != 0 {
		t.Fatalf("%d connections still followed", n)
	}
	io.WriteString(tc, "GET /ws HTTP/1.1\r\nHost: "+ls.addr+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: "+testKey+"\r\nSec-WebSocket-Version: 13\r\n\r\n")
	if resp, err = http.ReadResponse(br, nil); err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	if o := ls.h.open(t); o.loop {
		t.Fatalf("on the loops: %+v", o)
	}
	rc := &rawClient{t: t, nc: tc, br: br}
	rc.send(true, frame.OpText, []byte("after a big upload"))
	if _, got := rc.readMessage(); string(got) != "after a big upload" {
		t.Fatalf("echo %q", got)
	}
}
