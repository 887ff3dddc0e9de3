//go:build ignore

// inflight measures what one TLS handshake in flight holds in a bench server:
// it starts bin/weir -tls-cert/-tls-key with WEIR_MAX_TLS_HANDSHAKES=n+8, opens n
// connections whose crypto/tls clients stall at a chosen point, and reads the
// server's /stats (HeapAlloc after a GC) before and after: (after - before)/n.
//
//	go run results/storm-2026-12-07/inflight.go -server bin/weir -n 1000 -stall finished
//
// Stall points: "hello" (TCP connected, nothing sent: the server waits for the
// ClientHello), "finished" (ClientHello sent, the server's flight written, the
// client never sends its Finished: the server waits for it, holding everything
// the handshake has built).
package main

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/weir-ws/weir/bench/internal/srvkit"
)

type stallConn struct {
	net.Conn
	writes int
	block  chan struct{}
}

func (c *stallConn) Write(p []byte) (int, error) {
	c.writes++
	if c.writes > 1 { // the client's second flight (Finished): never sent
		<-c.block
	}
	return c.Conn.Write(p)
}

func stats(addr string) (heap float64, gor int) {
	resp, err := http.Get("http://" + addr + "/stats")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var v struct {
		HeapAlloc  float64 `json:"heap_alloc"`
		Goroutines int     `json:"goroutines"`
	}
	json.NewDecoder(resp.Body).Decode(&v)
	return v.HeapAlloc, v.Goroutines
}

func main() {
	server := flag.String("server", "bin/weir", "server binary")
	n := flag.Int("n", 1000, "handshakes held")
	stall := flag.String("stall", "finished", "hello or finished")
	prof := flag.String("profile", "", "write the server's heap profile (after the second /stats) here; run with SRVKIT_MEMPROFILERATE=1")
	flag.Parse()
	dir, _ := os.MkdirTemp("", "inflight-")
	defer os.RemoveAll(dir)
	cert, key, err := srvkit.WriteSelfSigned(dir)
	if err != nil {
		panic(err)
	}
	cmd := exec.Command(*server, "-addr", "127.0.0.1:0", "-stats", "127.0.0.1:0", "-tls-cert", cert, "-tls-key", key)
	cmd.Env = append(os.Environ(), "WEIR_MAX_TLS_HANDSHAKES="+strconv.Itoa(*n+8))
	cmd.Stderr = os.Stderr
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		panic(err)
	}
	defer cmd.Process.Kill()
	var ws, st string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "LISTEN ") {
			for _, f := range strings.Fields(sc.Text())[1:] {
				k, v, _ := strings.Cut(f, "=")
				switch k {
				case "ws":
					ws = v
				case "stats":
					st = v
				}
			}
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	time.Sleep(time.Second)
	h0, g0 := stats(st)
	block := make(chan struct{})
	var wg sync.WaitGroup
	conns := make([]net.Conn, 0, *n)
	var mu sync.Mutex
	for range *n {
		c, err := net.Dial("tcp", ws)
		if err != nil {
			panic(err)
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		if *stall == "hello" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			tc := tls.Client(&stallConn{Conn: c, block: block}, &tls.Config{InsecureSkipVerify: true})
			tc.Handshake() // returns once the stalled write is released
		}()
	}
	time.Sleep(3 * time.Second) // every server flight written, every server waiting
	h1, g1 := stats(st)
	if *prof != "" {
		resp, err := http.Get("http://" + st + "/debug/pprof/heap")
		if err != nil {
			panic(err)
		}
		f, _ := os.Create(*prof)
		io.Copy(f, resp.Body)
		f.Close()
		resp.Body.Close()
	}
	fmt.Printf("stall=%s n=%d heap %.0f -> %.0f B: %.0f B per handshake in flight; goroutines %d -> %d\n",
		*stall, *n, h0, h1, (h1-h0)/float64(*n), g0, g1)
	close(block)
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
}
