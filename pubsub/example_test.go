package pubsub_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/pubsub"
)

// chat lets its clients subscribe ("sub news.*") and publish ("pub news.sport
// goal!"). A real gateway would authorise both (docs/pubsub.md).
type chat struct {
	engine.NopHandler
	hub *pubsub.Hub
}

func (h chat) OnMessage(c *engine.Conn, op frame.Opcode, p []byte) {
	cmd, arg, _ := strings.Cut(string(p), " ")
	switch cmd {
	case "sub":
		if err := h.hub.Subscribe(c, arg); err != nil {
			c.WriteText("error: " + err.Error())
			return
		}
		c.WriteText("subscribed " + arg)
	case "pub":
		topic, msg, _ := strings.Cut(arg, " ")
		if _, err := h.hub.Publish(topic, frame.OpText, []byte(msg)); err != nil {
			c.WriteText("error: " + err.Error())
		}
	}
}

// A Hub behind a server: one client subscribes to a pattern, the other to a
// topic it matches, and a publish reaches both. Nobody unsubscribes: a
// connection's subscriptions end with it.
func ExampleHub() {
	hub, err := pubsub.New(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer hub.Close()
	srv, err := engine.NewServer(chat{hub: hub}, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	cl, _ := engine.NewClient(nil, nil)
	defer cl.Close()

	ctx := context.Background()
	url := "ws://" + srv.Addr().String() + "/"
	alice, _, err := cl.Dial(ctx, url, nil)
	if err != nil {
		log.Fatal(err)
	}
	bob, _, err := cl.Dial(ctx, url, nil)
	if err != nil {
		log.Fatal(err)
	}
	say := func(c *engine.Conn, who, cmd string) {
		c.WriteText(cmd)
		if strings.HasPrefix(cmd, "sub") {
			_, ack, _ := c.ReadMessage(ctx)
			fmt.Printf("%s: %s\n", who, ack)
		}
	}
	say(alice, "alice", "sub news.*")
	say(bob, "bob", "sub news.sport")
	fmt.Println("receivers of news.sport:", hub.Receivers("news.sport"))
	say(bob, "bob", "pub news.sport goal!")
	for _, c := range []*engine.Conn{alice, bob} {
		_, msg, _ := c.ReadMessage(ctx)
		fmt.Println(string(msg))
	}
	// Output:
	// alice: subscribed news.*
	// bob: subscribed news.sport
	// receivers of news.sport: 2
	// goal!
	// goal!
}
