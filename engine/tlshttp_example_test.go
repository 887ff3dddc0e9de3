package engine_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/testcert"
)

// An http.Server serving HTTPS and wss on one port, its wss connections on
// the loops once upgraded. The one change from http.Server.ServeTLS(raw, ...)
// is serving srv.TLSListener(raw, cfg) instead, which keeps the TLS record
// state the loops need (ServeTLS's connections run in goroutine mode).
func ExampleServer_TLSListener() {
	cert, pool, err := testcert.New("127.0.0.1") // your certificate here
	if err != nil {
		log.Fatal(err)
	}
	srv, err := engine.NewServer(echo{}, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	ln, err := srv.TLSListener(raw, &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /ws", srv)
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "plain HTTPS") })
	hs := &http.Server{Handler: mux}
	served := make(chan struct{})
	go func() { defer close(served); hs.Serve(ln) }() // not hs.ServeTLS
	defer func() { hs.Close(); <-served }()

	clientTLS := &tls.Config{RootCAs: pool}
	ctx := context.Background()
	c, _, err := engine.Dial(ctx, "wss://"+raw.Addr().String()+"/ws", &engine.DialOptions{TLSConfig: clientTLS})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(frame.StatusNormalClosure, "")
	c.WriteText("hello over wss")
	op, msg, err := c.ReadMessage(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(op, string(msg))

	tr := &http.Transport{TLSClientConfig: clientTLS}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("https://" + raw.Addr().String() + "/")
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(body))
	// Output:
	// text hello over wss
	// plain HTTPS
}
