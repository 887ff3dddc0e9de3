package w3c_test

import (
	"fmt"
	"log"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/w3c"
)

// echo answers every message with the same message.
type echo struct{ engine.NopHandler }

func (echo) OnMessage(c *engine.Conn, op frame.Opcode, p []byte) { c.WriteMessage(op, p) }

// chat is the browser-shaped client of docs/migrating.md: it sends one message
// on open, prints what comes back, and closes.
func chat(url string) error {
	ws, err := w3c.New(url, nil, &w3c.Options{
		OnOpen: func(e w3c.Event) { e.Target.Send(`{"name":"ada","text":"hi"}`) },
		OnMessage: func(e w3c.MessageEvent) {
			fmt.Println(e.Data)
			e.Target.Close(1000, "")
		},
		OnClose: func(e w3c.CloseEvent) { fmt.Println("closed", e.Code, e.WasClean) },
	})
	if err != nil {
		return err // a SyntaxError: w3c.ErrSyntax
	}
	<-ws.Done() // closed after the close event
	return nil
}

func ExampleNew() {
	srv, err := engine.NewServer(echo{}, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	if err := chat("ws://" + srv.Addr().String() + "/chat"); err != nil {
		log.Fatal(err)
	}
	// Output:
	// {"name":"ada","text":"hi"}
	// closed 1000 true
}
