package upgrade

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// maskedHello is a client frame: text "Hello", masked (RFC 6455 §5.7).
var maskedHello = []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}

type upgraded struct {
	conn net.Conn
	head []byte
	res  Result
	err  error
}

// dialRaw opens a TCP connection to srv and writes the client's request and
// extra bytes in one write, then scans the answer.
func dialRaw(t *testing.T, srv *httptest.Server, creq *ClientRequest, extra []byte) (net.Conn, *Response, []byte) {
	t.Helper()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	wire, err := creq.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(append(wire, extra...)); err != nil {
		t.Fatal(err)
	}
	var buf []byte
	chunk := make([]byte, 512)
	resp := &Response{}
	for {
		n, err := c.Read(chunk)
		buf = append(buf, chunk[:n]...)
		m, perr := ParseResponse(buf, resp, nil)
		if perr == nil {
			return c, resp, buf[m:]
		}
		if perr != ErrNeedMore {
			t.Fatalf("ParseResponse: %v\n%q", perr, buf)
		}
		if err != nil {
			t.Fatalf("read: %v after %q", err, buf)
		}
	}
}

func TestUpgradeNetHTTP(t *testing.T) {
	t.Parallel()
	got := make(chan upgraded, 1)
	u := &Upgrader{
		Subprotocols: []string{"chat"},
		Verify: func(r *Request, d *Decision) {
			hr := r.HTTPRequest()
			if hr == nil {
				d.Reject(500, "no http request")
				return
			}
			room := hr.PathValue("room")
			if room == "closed" {
				d.Reject(403, "room closed")
				return
			}
			d.SetUserValue(room)
			d.Keep(KeepPath)
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws/{room}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Handler", "set before upgrade")
		c, head, res, err := u.Upgrade(w, r)
		got <- upgraded{c, head, res, err}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	creq, err := NewClientRequest(srv.URL + "/ws/lobby")
	if err != nil {
		t.Fatal(err)
	}
	creq.Subprotocols = []string{"chat"}
	creq.Origin = srv.URL // same host
	c, resp, rest := dialRaw(t, srv, creq, maskedHello)
	cres, err := ValidateResponse(creq, resp)
	if err != nil {
		t.Fatal(err)
	}
	if cres.Subprotocol != "chat" || resp.Header("X-Handler") != "set before upgrade" || len(rest) != 0 {
		t.Fatalf("client side: %+v %q", cres, resp.Raw())
	}
	up := <-got
	if up.err != nil {
		t.Fatal(up.err)
	}
	defer up.conn.Close()
	// The frame sent in the same write as the request was buffered by net/http
	// and must come back as head.
	if !bytes.Equal(up.head, maskedHello) {
		t.Fatalf("head %x, want %x", up.head, maskedHello)
	}
	if up.res.UserValue != "lobby" || up.res.Subprotocol != "chat" || up.res.Path != "/ws/lobby" {
		t.Fatalf("result %+v", up.res)
	}
	// The hijacked connection carries on: server to client, unmasked.
	if _, err := up.conn.Write([]byte{0x81, 0x02, 'h', 'i'}); err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 4)
	if _, err := io.ReadFull(c, frame); err != nil || string(frame[2:]) != "hi" {
		t.Fatalf("frame %q %v", frame, err)
	}

	// A rejection goes through the ResponseWriter.
	creq2, _ := NewClientRequest(srv.URL + "/ws/closed")
	_, resp2, _ := dialRaw(t, srv, creq2, nil)
	_, err = ValidateResponse(creq2, resp2)
	var he *HandshakeError
	if !errors.As(err, &he) || he.Status != 403 || he.Reason != "room closed" || he.Header.Get("X-Handler") != "set before upgrade" {
		t.Fatalf("client saw %v", err)
	}
	up = <-got
	if !errors.Is(up.err, ErrRejected) || up.conn != nil || StatusOf(up.err) != 403 {
		t.Fatalf("server returned %+v", up)
	}
}

func TestUpgradeNetHTTPRejections(t *testing.T) {
	t.Parallel()
	errs := make(chan error, 8)
	u := &Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _, _, err := u.Upgrade(w, r)
		errs <- err
	}))
	t.Cleanup(srv.Close)

	// A plain GET is not an upgrade: 426 names the protocol (RFC 7231 §6.5.15).
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 426 || resp.Header.Get("Upgrade") != "websocket" || resp.Header.Get("Sec-WebSocket-Version") != "13, 8" ||
		!resp.Close || !errors.Is(<-errs, ErrUpgradeRequired) {
		t.Fatalf("plain GET: %d %v", resp.StatusCode, resp.Header)
	}
	// An Upgrade to another protocol is a malformed handshake: 400.
	hreq, _ := http.NewRequest("GET", srv.URL, nil)
	hreq.Header.Set("Upgrade", "h2c")
	hreq.Header.Set("Connection", "Upgrade")
	if resp, err = http.DefaultClient.Do(hreq); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("Upgrade") != "" || !errors.Is(<-errs, ErrBadUpgrade) {
		t.Fatalf("Upgrade h2c: %d %v", resp.StatusCode, resp.Header)
	}
	// A cross-site origin is refused with 403.
	creq, _ := NewClientRequest(srv.URL)
	creq.Origin = "https://evil.example"
	_, r2, _ := dialRaw(t, srv, creq, nil)
	if r2.StatusCode() != 403 || !errors.Is(<-errs, ErrOriginDenied) {
		t.Fatalf("cross origin: %d", r2.StatusCode())
	}
	// POST gets 405 with Allow.
	resp, err = http.Post(srv.URL, "text/plain", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET" || !errors.Is(<-errs, ErrBadMethod) {
		t.Fatalf("POST: %d %v", resp.StatusCode, resp.Header)
	}
	// Version 12 gets 426 with the versions we speak.
	creq, _ = NewClientRequest(srv.URL)
	wire, _ := creq.AppendTo(nil)
	wire = bytes.Replace(wire, []byte("Version: 13"), []byte("Version: 12"), 1)
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(wire)
	hr, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if hr.StatusCode != 426 || hr.Header.Get("Sec-WebSocket-Version") != "13, 8" || !errors.Is(<-errs, ErrBadVersion) {
		t.Fatalf("v12: %d %v", hr.StatusCode, hr.Header)
	}
}

func TestUpgradeNetHTTPAsync(t *testing.T) {
	t.Parallel()
	handles := make(chan *Handle, 2)
	got := make(chan upgraded, 2)
	u := &Upgrader{Verify: func(r *Request, d *Decision) { handles <- d.Defer() }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, head, res, err := u.Upgrade(w, r)
		got <- upgraded{c, head, res, err}
	}))
	t.Cleanup(srv.Close)

	// Accepted later from another goroutine.
	go func() {
		h := <-handles
		if h.Request().HTTPRequest() == nil {
			t.Error("handle lost the http.Request")
		}
		time.Sleep(10 * time.Millisecond) // an auth lookup
		if err := h.Accept(Acceptance{UserValue: "late"}); err != nil {
			t.Error(err)
		}
	}()
	creq, _ := NewClientRequest(srv.URL)
	_, resp, _ := dialRaw(t, srv, creq, nil)
	if _, err := ValidateResponse(creq, resp); err != nil {
		t.Fatal(err)
	}
	up := <-got
	if up.err != nil || up.res.UserValue != "late" {
		t.Fatalf("%+v", up)
	}
	up.conn.Close()

	// The client leaves while the decision is pending: the handle is canceled.
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	wire, _ := creq.AppendTo(nil)
	c.Write(wire)
	h := <-handles
	c.Close()
	select {
	case up = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("Upgrade did not return after the client left")
	}
	if !errors.Is(up.err, ErrCanceled) || up.conn != nil {
		t.Fatalf("%+v", up)
	}
	if err := h.Accept(Acceptance{}); err != ErrCanceled {
		t.Fatalf("Accept after the client left: %v", err)
	}
}

// TestUpgradeRaw is a WebSocket-to-WebSocket relay's view: the plain connection,
// with the bytes net/http buffered returned by its first read.
func TestUpgradeRaw(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, err := (&Upgrader{}).UpgradeRaw(w, r)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		// Echo the client's first frame verbatim, as a relay would copy it.
		buf := make([]byte, len(maskedHello))
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Error(err)
			return
		}
		c.Write(buf)
	}))
	t.Cleanup(srv.Close)
	creq, _ := NewClientRequest(srv.URL)
	c, resp, rest := dialRaw(t, srv, creq, maskedHello)
	if _, err := ValidateResponse(creq, resp); err != nil {
		t.Fatal(err)
	}
	echo := make([]byte, len(maskedHello)-len(rest))
	if _, err := io.ReadFull(c, echo); err != nil {
		t.Fatal(err)
	}
	if got := append(rest, echo...); !bytes.Equal(got, maskedHello) {
		t.Fatalf("echo %x", got)
	}
}

// TestUpgradeStripPrefix: the path filter sees r.URL as the handler got it.
func TestUpgradeStripPrefix(t *testing.T) {
	t.Parallel()
	errs := make(chan error, 1)
	u := &Upgrader{Path: "/live"}
	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, _, err := u.Upgrade(w, r)
		if c != nil {
			c.Close()
		}
		errs <- err
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	creq, _ := NewClientRequest(srv.URL + "/api/live?x=1")
	_, resp, _ := dialRaw(t, srv, creq, nil)
	if _, err := ValidateResponse(creq, resp); err != nil || <-errs != nil {
		t.Fatalf("%v", err)
	}
}
