package engine

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// Client.Adopt: a client connection whose handshake the caller made by hand with
// package upgrade, then handed to the engine with the bytes read past the 101.

// greeter sends "hello" as soon as a connection opens, so that the first frame
// tends to arrive with the 101 and land in head.
type greeter struct{ cliPeer }

func (g *greeter) OnOpen(c *Conn) {
	c.WriteText("hello")
	g.cliPeer.OnOpen(c)
}

// handshakeByHand dials addr and runs the opening handshake with package upgrade,
// returning the socket, the bytes after the response, and the result. With
// wantHead it reads until there are bytes after the response (the server must
// send a message at once).
func handshakeByHand(t *testing.T, addr, path string, subprotocols []string, wantHead bool) (net.Conn, []byte, upgrade.ClientResult) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	req, err := upgrade.NewClientRequest("ws://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	req.Subprotocols = subprotocols
	b, err := req.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Write(b); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	var resp upgrade.Response
	for n := 0; ; {
		m, err := nc.Read(buf[n:])
		if err != nil {
			t.Fatalf("reading the response: %v", err)
		}
		n += m
		size, err := upgrade.ParseResponse(buf[:n], &resp, nil)
		if errors.Is(err, upgrade.ErrNeedMore) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if wantHead && size == n {
			continue // read on until the server's first frame is there too
		}
		res, err := upgrade.ValidateResponse(req, &resp)
		if err != nil {
			t.Fatal(err)
		}
		return nc, buf[size:n], res
	}
}

func TestClientAdopt(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		srv := &greeter{*newCliPeer(true)}
		_, addr := startServer(t, srv, cfg, &upgrade.Upgrader{Subprotocols: []string{"chat"}})
		cl := cliClient(t, nil, cfg)
		nc, head, res := handshakeByHand(t, addr, "/", []string{"chat"}, true)
		if len(head) == 0 {
			t.Fatal("no bytes after the 101: the test would not cover head")
		}
		c, err := cl.Adopt(nc, head, res, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Abort()
		if c.Subprotocol() != "chat" {
			t.Fatalf("subprotocol %q", c.Subprotocol())
		}
		if op, p, err := c.ReadMessage(cliCtx(t)); err != nil || op != frame.OpText || string(p) != "hello" {
			t.Fatalf("first message %v %q %v", op, p, err)
		}
		cliEchoOnce(t, c)
		cliCloseRead(t, c)
	})
}

func TestClientAdoptNodeWS(t *testing.T) {
	t.Parallel()
	n := cliNode(t, false)
	nc, head, res := handshakeByHand(t, n.addr, "/info", nil, true)
	c, err := cliClient(t, nil, Config{}).Adopt(nc, head, res, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Abort()
	if info := cliReadNodeInfo(t, c); info.Path != "/info" {
		t.Fatalf("node saw path %q", info.Path)
	}
}

// Both ends adopted over net.Pipe, with no handshake at all: an in-memory
// connection in goroutine mode, as P2 of the capabilities asks for tests.
func TestAdoptPipe(t *testing.T) {
	t.Parallel()
	srv, err := NewServer(newCliPeer(true), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	a, b := net.Pipe()
	srv.Adopt(a, nil, nil)
	c, err := cliClient(t, nil, Config{}).Adopt(b, nil, upgrade.ClientResult{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cliEchoOnce(t, c)
	cliCloseRead(t, c)
}

func TestClientAdoptClosed(t *testing.T) {
	t.Parallel()
	cl, err := NewClient(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl.Close()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, err := cl.Adopt(a, nil, upgrade.ClientResult{}, nil); !errors.Is(err, ErrClientClosed) {
		t.Fatalf("Adopt on a closed client: %v, want ErrClientClosed", err)
	}
	// nc is closed, as when Adopt finds the client closing a moment later:
	// the caller cannot tell the two apart, and must not hold its socket.
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := b.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("the peer of the net.Conn Adopt refused reads %v, want EOF", err)
	}
}

// A permessage-deflate answer that breaks RFC 7692 §7.1 (here a parameter
// the client did not offer) fails the connection Adopt is given, as it fails
// a Dial: the client must not run it without compression while the server
// believes it on. ValidateResponse, which Adopt's callers use, checks only
// the extension's name.
func TestClientAdoptBadDeflateAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		params []upgrade.ExtensionParam
	}{
		{"unknown parameter", []upgrade.ExtensionParam{{Name: "x", Value: "1"}}},
		{"client_max_window_bits without a value", []upgrade.ExtensionParam{{Name: "client_max_window_bits"}}},
		{"server_max_window_bits 16", []upgrade.ExtensionParam{{Name: "server_max_window_bits", Value: "16"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, b := net.Pipe()
			defer a.Close()
			res := upgrade.ClientResult{Extensions: []upgrade.ExtensionOffer{{Name: "permessage-deflate", Params: tc.params}}}
			c, err := cliClient(t, nil, Config{}).Adopt(b, nil, res, &DialOptions{Compression: &deflate.Options{}})
			if !errors.Is(err, deflate.ErrBadResponse) || c != nil {
				if c != nil {
					c.Abort()
				}
				t.Fatalf("Adopt: Conn %t, err %v; want deflate.ErrBadResponse and no Conn", c != nil, err)
			}
			a.SetReadDeadline(time.Now().Add(cliWait))
			if _, err := a.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
				t.Fatalf("the server's end reads %v, want io.EOF (the socket closed)", err)
			}
		})
	}
}
