package redial_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/redial"
)

// restarting is a server that welcomes each connection, then drops the first
// two with 1012 (service restart), as a server being redeployed would.
type restarting struct {
	engine.NopHandler
	n atomic.Int32
}

func (s *restarting) OnOpen(c *engine.Conn) {
	n := s.n.Add(1)
	c.WriteText("welcome #" + strconv.Itoa(int(n)))
	if n < 3 {
		c.Close(frame.StatusServiceRestart, "restarting")
	}
}

// subscriber is the client's handler: the same one serves every connection
// Run opens, so OnOpen marks each (re)connection and OnClose each loss.
type subscriber struct {
	engine.NopHandler
	cancel context.CancelFunc
}

func (s subscriber) OnMessage(c *engine.Conn, op frame.Opcode, p []byte) {
	fmt.Println("got", string(p))
	if string(p) == "welcome #3" {
		s.cancel() // enough: Run closes this connection with 1001 and returns
	}
}

func (s subscriber) OnClose(c *engine.Conn, code frame.StatusCode, reason string, err error) {
	fmt.Println("lost:", code)
}

// Run keeps one connection up: each time the server drops it, Run dials
// again after a backoff (MinDelay here, doubling after failed dials), until
// ctx ends.
func ExampleRun() {
	srv, _ := engine.NewServer(&restarting{}, nil, nil)
	defer srv.Close()
	srv.Listen("127.0.0.1:0")
	url := "ws://" + srv.Addr().String() + "/feed"

	cl, err := engine.NewClient(nil, nil) // Run gives each connection its handler
	if err != nil {
		log.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithCancel(context.Background())
	err = redial.Run(ctx, cl, url, subscriber{cancel: cancel}, &redial.Options{
		MinDelay: 10 * time.Millisecond,
		MaxDelay: time.Second,
		Jitter:   -1, // none, for a predictable example
	})
	fmt.Println("Run:", errors.Is(err, context.Canceled))
	// Output:
	// got welcome #1
	// lost: service restart
	// got welcome #2
	// lost: service restart
	// got welcome #3
	// lost: going away
	// Run: true
}
