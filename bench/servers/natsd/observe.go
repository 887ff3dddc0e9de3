package main

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// observe subscribes an in-process client (nats.InProcessServer: a pipe, no
// socket, no netpoll) to weir.> and writes "n STAMP UNIX_NS" per message
// (the publisher's stamp, see wsbench psgen) to file: when this server routed
// it, for "wsbench psreport -traces" to split the hop into the server's part
// and node B's. A debugging aid: it is one more receiver for the server.
func observe(ns *server.Server, file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	nc, err := nats.Connect("", nats.InProcessServer(ns), nats.Name("natsd-observer"))
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var buf []byte
	go func() {
		for range time.Tick(200 * time.Millisecond) {
			mu.Lock()
			b := buf
			buf = nil
			mu.Unlock()
			f.Write(b)
		}
	}()
	_, err = nc.Subscribe("weir.>", func(m *nats.Msg) {
		now := time.Now().UnixNano()
		p := m.Data
		for {
			i := bytes.Index(p, []byte(`"T`))
			if i < 0 || len(p) < i+18 {
				return
			}
			st, err := strconv.ParseUint(string(p[i+2:i+18]), 16, 64)
			p = p[i+18:]
			if err != nil {
				continue
			}
			mu.Lock()
			buf = strconv.AppendUint(append(buf, "n "...), st, 10)
			buf = strconv.AppendInt(append(buf, ' '), now, 10)
			buf = append(buf, '\n')
			mu.Unlock()
		}
	})
	return err
}
