package engine

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// Server.Stats and Client.Stats: totals over live and ended connections match
// what each side sent, and never go down while connections come and go.
func TestEngineStats(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		srv := newCliPeer(true)
		s, addr := startServer(t, srv, cfg, nil)
		cl := cliClient(t, nil, cfg)
		stop := make(chan struct{})
		var scrapes sync.WaitGroup
		var monoErr error
		scrapes.Go(func() { // scrape while connections churn
			var last EngineStats
			for {
				select {
				case <-stop:
					return
				default:
				}
				st := s.Stats()
				if st.BytesIn < last.BytesIn || st.MessagesIn < last.MessagesIn || st.FramesOut < last.FramesOut ||
					st.Opened < last.Opened || st.Closed < last.Closed {
					monoErr = fmt.Errorf("server totals went down: %+v after %+v", st, last)
					return
				}
				last = st
				time.Sleep(100 * time.Microsecond)
			}
		})
		const n, msgs = 12, 5
		conns := make([]*Conn, n)
		for i := range conns {
			conns[i] = cliDial(t, cl, "ws://"+addr+"/", nil)
			cliRecv(t, srv.opened, "server OnOpen")
			for range msgs {
				cliEchoOnce(t, conns[i])
			}
		}
		var sent Stats // what the clients' own counters say
		for i, c := range conns {
			if i%2 == 0 {
				cliCloseRead(t, c) // half of them end, one close handshake each
				cliRecv(t, srv.closed, "server OnClose")
			}
			sent.Add(c.Stats())
		}
		close(stop)
		scrapes.Wait()
		if monoErr != nil {
			t.Fatal(monoErr)
		}
		want := EngineStats{Conns: n / 2, Opened: n, Closed: n / 2}
		// A message is counted once its write returns, which may be just after
		// the client read the echo: wait for the last count to land.
		waitFor(t, func() bool { return s.Stats().MessagesOut == sent.MessagesIn })
		got := s.Stats()
		if got.Conns != want.Conns || got.Opened != want.Opened || got.Closed != want.Closed {
			t.Fatalf("server connections %d now, %d opened, %d closed; want %+v", got.Conns, got.Opened, got.Closed, want)
		}
		// Every client message is a server message in and an echo out, and every
		// frame the server sent (echoes and close replies) reached a client.
		// (Bytes differ by the 101s: the server writes them, a client's dial
		// reads them before its connection counts.)
		if got.MessagesIn != sent.MessagesOut || got.MessagesOut != sent.MessagesIn || got.FramesOut != sent.FramesIn {
			t.Fatalf("server messages in/out %d/%d, frames out %d; clients sent/received %d/%d, frames in %d",
				got.MessagesIn, got.MessagesOut, got.FramesOut, sent.MessagesOut, sent.MessagesIn, sent.FramesIn)
		}
		ct := cl.Stats()
		if ct.Opened != n || ct.Closed != n/2 || ct.MessagesOut != sent.MessagesOut || ct.BytesIn != sent.BytesIn {
			t.Fatalf("client totals %+v; the connections' own say %+v", ct, sent)
		}
	})
}

// TestStatsAllocatesNothing: a scrape walks the loops' tables in place; it
// used to copy every connection into a list first (about 100 KB of garbage
// per call at 2,000 connections).
func TestStatsAllocatesNothing(t *testing.T) { // not parallel: AllocsPerRun counts the whole process
	srv := newCliPeer(false)
	s, addr := startServer(t, srv, Config{}, nil)
	cl := cliClient(t, nil, Config{})
	for range 64 {
		cliDial(t, cl, "ws://"+addr+"/", nil)
		cliRecv(t, srv.opened, "server OnOpen")
	}
	if n := testing.AllocsPerRun(20, func() { _ = s.Stats() }); n != 0 {
		t.Errorf("Server.Stats: %v allocations per call with 64 connections, want 0", n)
	}
	if n := testing.AllocsPerRun(20, func() { _ = cl.Stats() }); n != 0 {
		t.Errorf("Client.Stats: %v allocations per call with 64 connections, want 0", n)
	}
}
