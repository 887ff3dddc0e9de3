package engine

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"github.com/weir-ws/weir/internal/tlshand"
	"github.com/weir-ws/weir/internal/wsconn"
)

// TestTLSStartAfterStop: a ListenTLS connection whose handshake finishes
// once the Server is stopping, with records read past the handshake (the
// request came with the client's Finished: handoff's Fresh), is dropped and
// closed, and nothing is posted to it. Before, startTLS posted its first
// read after startServerConn had dropped it unplaced: under DispatchInline
// the post went to the loop of a connection that had none, a nil
// dereference that ended the process (seen racing Close against wss dials).
func TestTLSStartAfterStop(t *testing.T) {
	t.Parallel()
	forLoopModes(t, func(t *testing.T, cfg Config) {
		s, err := NewServer(NopHandler{}, &cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		peer := make(chan net.Conn, 1)
		go func() {
			nc, err := tls.Dial("tcp", ln.Addr().String(), clientTLS(t))
			if err != nil {
				t.Error(err)
				close(peer)
				return
			}
			peer <- nc
		}()
		nc, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srvTLS := &tls.Config{Certificates: []tls.Certificate{cliTestCert(t).cert}}
		res, err := tlshand.Prepare(srvTLS, tlshand.Options{}).Server(ctx, nc)
		if err != nil {
			t.Fatal(err)
		}
		pc, ok := <-peer
		if !ok {
			return
		}
		defer pc.Close()
		if len(res.Leftover) == 0 {
			res.Leftover = []byte{23, 3, 3, 0, 0} // a record read past the handshake (never opened: the connection is dropped)
		}
		s.Close()
		startHandshaken(s.e, nc, wsconn.AddrPort(nc.RemoteAddr()), res, false, false)
		if live := s.e.Census.Live.Load(); live != 0 {
			t.Fatalf("%d connections live after the start", live)
		}
		pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadAll(pc); err != nil {
			t.Fatalf("peer: %v (the socket was not closed)", err)
		}
	})
}
