package engine_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// These examples run under go test (their // Output: lines are checked) on
// real sockets on 127.0.0.1. The README and docs/ quote them.

// echo answers every message with the same message.
type echo struct{ engine.NopHandler }

func (echo) OnMessage(c *engine.Conn, op frame.Opcode, p []byte) {
	c.WriteMessage(op, p) // p is valid until return; WriteMessage copies it
}

// An echo server and a client that talks to it. Listen returns once the socket
// listens (port 0 picks a free one); ListenAndServe(":8080") would instead block
// for the life of the server, so code after it never runs.
func ExampleNewServer() {
	srv, err := engine.NewServer(echo{}, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	c, _, err := engine.Dial(ctx, "ws://"+srv.Addr().String()+"/", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(frame.StatusNormalClosure, "")
	c.WriteText("hello")
	op, msg, err := c.ReadMessage(ctx) // a Conn dialled without a Handler is read this way
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(op, string(msg))
	// Output: text hello
}

// printer prints what its connections receive and signals their end.
type printer struct {
	engine.NopHandler
	closed chan struct{}
}

func (p printer) OnMessage(c *engine.Conn, op frame.Opcode, msg []byte) {
	fmt.Printf("got %s %q\n", op, msg)
}

func (p printer) OnClose(c *engine.Conn, code frame.StatusCode, reason string, err error) {
	fmt.Println("closed:", code) // the peer's answer to our close frame
	close(p.closed)
}

// A client with a Handler: its connection runs on the Client's loops, with the
// same callbacks as a server connection and no goroutine of its own. The
// server here echoes and is only scaffolding.
func ExampleClient_Dial() {
	srv, _ := engine.NewServer(echo{}, nil, nil)
	defer srv.Close()
	srv.Listen("127.0.0.1:0")
	url := "ws://" + srv.Addr().String() + "/chat"

	h := printer{closed: make(chan struct{})}
	cl, err := engine.NewClient(h, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer cl.Close()
	c, resp, err := cl.Dial(context.Background(), url, &engine.DialOptions{
		Header: http.Header{"Authorization": {"Bearer t0k3n"}},
	})
	if err != nil {
		log.Fatal(err) // a refused handshake is an *upgrade.HandshakeError
	}
	fmt.Println("status:", resp.StatusCode)
	c.WriteText("ping?")
	c.WriteBinary([]byte{1, 2, 3})
	c.Close(frame.StatusNormalClosure, "bye") // queued after the two writes
	<-h.closed
	// Output:
	// status: 101
	// got text "ping?"
	// got binary "\x01\x02\x03"
	// closed: normal closure
}

// The package-level Dial uses a default Client. Without a Handler in the
// DialOptions, the connection is read with ReadMessage, which returns a
// *CloseError once the peer has closed.
func ExampleDial() {
	srv, _ := engine.NewServer(echo{}, nil, nil)
	defer srv.Close()
	srv.Listen("127.0.0.1:0")
	url := "ws://" + srv.Addr().String() + "/"

	ctx := context.Background()
	c, _, err := engine.Dial(ctx, url, &engine.DialOptions{Subprotocols: []string{"chat.v1"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("subprotocol: %q\n", c.Subprotocol()) // the server chose none
	c.WriteText("one")
	_, msg, _ := c.ReadMessage(ctx)
	fmt.Println(string(msg))

	srv.Shutdown(ctx) // closes every connection with 1001
	_, _, err = c.ReadMessage(ctx)
	fmt.Println(engine.CloseStatus(err))
	// Output:
	// subprotocol: ""
	// one
	// going away
}

// hub counts connections as they open, for the broadcast example.
type hub struct {
	engine.NopHandler
	opened chan *engine.Conn
}

func (h hub) OnOpen(c *engine.Conn) { h.opened <- c }

// A PreparedMessage is framed once and written to many connections:
// Broadcast sends it to every open connection of the server (filter nil) and
// returns how many it was queued on.
func ExamplePreparedMessage() {
	h := hub{opened: make(chan *engine.Conn, 3)}
	srv, _ := engine.NewServer(h, nil, nil)
	defer srv.Close()
	srv.Listen("127.0.0.1:0")
	url := "ws://" + srv.Addr().String() + "/"

	ctx := context.Background()
	var clients []*engine.Conn
	for range 3 {
		c, _, err := engine.Dial(ctx, url, nil)
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close(frame.StatusNormalClosure, "")
		clients = append(clients, c)
		<-h.opened // the server's OnOpen has run
	}

	pm := engine.NewPreparedMessage(frame.OpText, []byte(`{"news":"weir 0.1"}`))
	fmt.Println("sent to", srv.Broadcast(pm, nil))
	for i, c := range clients {
		_, msg, _ := c.ReadMessage(ctx)
		fmt.Println(i, string(msg))
	}
	// Output:
	// sent to 3
	// 0 {"news":"weir 0.1"}
	// 1 {"news":"weir 0.1"}
	// 2 {"news":"weir 0.1"}
}

// The gorilla shape: a server made with a nil Handler, mounted in net/http,
// and a ReadMessage / WriteMessage loop in the HTTP handler. The connection
// still lives on the engine's loops (no reader goroutine, no buffer while
// idle); ReadMessage blocks only the handler that calls it.
func ExampleServer_ServeHTTP_readMessage() {
	srv, err := engine.NewServer(nil, nil, nil) // nil Handler: ReadMessage on every connection
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	u := &upgrade.Upgrader{}
	echoLoop := func(w http.ResponseWriter, r *http.Request) {
		nc, head, res, err := u.Upgrade(w, r)
		if err != nil {
			return // u has answered
		}
		c := srv.Adopt(nc, head, &res)
		defer c.Close(frame.StatusNormalClosure, "")
		for {
			op, msg, err := c.ReadMessage(r.Context())
			if err != nil {
				return
			}
			if err := c.WriteMessage(op, msg); err != nil {
				return
			}
		}
	}
	hs := httptest.NewServer(http.HandlerFunc(echoLoop)) // http.ListenAndServe in a program
	defer hs.Close()

	ctx := context.Background()
	c, _, err := engine.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/", nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range []string{"first", "second"} {
		c.WriteText(s)
		_, msg, _ := c.ReadMessage(ctx)
		fmt.Println(string(msg))
	}
	c.Close(frame.StatusNormalClosure, "done")
	_, _, err = c.ReadMessage(ctx) // the close handshake's answer
	fmt.Println(engine.CloseStatus(err))
	// Output:
	// first
	// second
	// normal closure
}

// The configurations docs/tuning.md recommends, each on a running server.

// Compression without context takeover: no per-connection history on either
// side, for many mostly idle connections (docs/tuning.md, User space).
func ExampleConfig_compression() {
	cfg := &engine.Config{
		Compression: &deflate.Options{
			ServerNoContextTakeover: true, // our compressor keeps no history
			ClientNoContextTakeover: true, // we keep no history of the client's stream
		},
	}
	srv, err := engine.NewServer(echo{}, cfg, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.Listen("127.0.0.1:0")

	ctx := context.Background()
	c, _, err := engine.Dial(ctx, "ws://"+srv.Addr().String()+"/", &engine.DialOptions{
		Compression: &deflate.Options{}, // offer permessage-deflate
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(frame.StatusNormalClosure, "")
	p, ok := c.Compression()
	fmt.Println("negotiated:", ok, "no takeover:", p.ServerNoContextTakeover, p.ClientNoContextTakeover)
	c.WriteText(strings.Repeat("compressible ", 100))
	_, msg, _ := c.ReadMessage(ctx)
	fmt.Println(len(msg))
	// Output:
	// negotiated: true no takeover: true true
	// 1300
}

// A deeper accept queue (docs/tuning.md, Accept queue): the kernel caps it at
// net.core.somaxconn.
func ExampleConfig_backlog() {
	cfg := &engine.Config{Backlog: 65535}
	srv, err := engine.NewServer(echo{}, cfg, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	fmt.Println(srv.Listen("127.0.0.1:0"))
	// Output: <nil>
}

// A small write buffer with a policy for slow consumers, and a broadcast
// (docs/tuning.md, Write buffers and push fan-out).
func ExampleConfig_writeBuffer() {
	cfg := &engine.Config{
		MaxWriteBuffer:    64 << 10,
		WriteBufferPolicy: engine.WriteBufferClose,
		DrainLowWater:     16 << 10, // OnDrain fires when the queue is back at or below 16 KiB
	}
	h := hub{opened: make(chan *engine.Conn, 1)}
	srv, err := engine.NewServer(h, cfg, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.Listen("127.0.0.1:0")
	ctx := context.Background()
	c, _, err := engine.Dial(ctx, "ws://"+srv.Addr().String()+"/", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(frame.StatusNormalClosure, "")
	<-h.opened
	payload := []byte("tick")

	pm := engine.NewPreparedMessage(frame.OpText, payload) // encoded once
	n := srv.Broadcast(pm, nil)                            // never blocks; slow consumers get the policy
	_, msg, _ := c.ReadMessage(ctx)
	fmt.Println(n, string(msg))
	// Output: 1 tick
}

// Keepalive for a million connections (docs/tuning.md, Keepalive): a ping
// after 45 s of silence, dropped 15 s later without an answer.
func ExampleConfig_keepalive() {
	cfg := &engine.Config{
		PingInterval: 45 * time.Second, // 22,000 pings/s for 1M connections
		PongTimeout:  15 * time.Second,
		// IdleTimeout: 0 (default): no close for silence as long as pongs arrive
	}
	srv, err := engine.NewServer(echo{}, cfg, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	fmt.Println(srv.Listen("127.0.0.1:0"))
	// Output: <nil>
}
