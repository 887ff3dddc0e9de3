package engine

import (
	"io"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// BenchmarkEchoBesideDrippers: do handshakes, which have the pool's front
// lane (internal/workq: strict priority over fresh input), starve the
// established connections' echo when many peers drip their requests one byte
// per segment? Eight echo clients do lockstep round trips of 64 bytes while
// N connections drip a 4 KiB handshake request, one byte per write (each a
// segment: TCP_NODELAY) round-robin as fast as four goroutines can, redialling
// when a request is all sent. Reported: the echo's msg/s and p50/p99 round
// trip, and the drip bytes/s sent beside them. "forced" hands every turn to
// the pool, as on a busy machine (the loop's small batches otherwise run on
// the loop itself, internal/reactor takeover.go), which is where the lanes'
// order decides. Compare the drippers=0 line with the others of the same
// mode: a collapse is echo msg/s far below the no-dripper rate.
//
//	go test -run '^$' -bench EchoBesideDrippers -benchtime 20000x ./engine
func BenchmarkEchoBesideDrippers(b *testing.B) {
	for _, forced := range []bool{false, true} {
		for _, n := range []int{0, 1000, 4000} {
			name := "natural"
			if forced {
				name = "forced"
			}
			b.Run(name+"/drippers="+strconv.Itoa(n), func(b *testing.B) { benchDrip(b, n, forced) })
		}
	}
}

const dripEchoClients = 8

func benchDrip(b *testing.B, drippers int, forced bool) {
	cfg := Config{PingInterval: -1, HandshakeTimeout: time.Minute}
	s, addr := startServer(b, bnEcho{}, cfg, nil)
	if forced {
		for _, l := range s.e.loops {
			l.Turns().SetSlowUntil(math.MaxInt64)
		}
	}
	clients := make([]*bnClient, dripEchoClients)
	for i := range clients {
		rc := dialRaw(b, addr)
		rc.nc.SetDeadline(time.Time{})
		payload := make([]byte, 64)
		clients[i] = &bnClient{nc: rc.nc, br: rc.br, out: frameBytes(true, frame.OpBinary, 0, payload, true), in: make([]byte, 2+64)}
		clients[i].roundTrip(b)
	}

	// The drippers: their connections, dialled before the clock starts.
	req := []byte("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\nX-Pad: " +
		strings.Repeat("a", 4000) + "\r\n\r\n")
	const dripGoroutines = 4
	stop := make(chan struct{})
	var dripped atomic.Int64
	var wg sync.WaitGroup
	dial := func() net.Conn {
		nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			b.Error(err)
			return nil
		}
		return nc
	}
	type dripConn struct {
		nc  net.Conn
		off int
	}
	sets := make([][]dripConn, dripGoroutines)
	for i := range drippers {
		sets[i%dripGoroutines] = append(sets[i%dripGoroutines], dripConn{nc: dial()})
	}
	for _, set := range sets {
		if len(set) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				for _, d := range set {
					if d.nc != nil {
						d.nc.Close()
					}
				}
			}()
			for {
				for i := range set {
					select {
					case <-stop:
						return
					default:
					}
					d := &set[i]
					if d.nc == nil {
						continue
					}
					if _, err := d.nc.Write(req[d.off : d.off+1]); err != nil {
						d.nc.Close()
						d.nc, d.off = dial(), 0
						continue
					}
					dripped.Add(1)
					if d.off++; d.off == len(req) {
						d.nc.Close()
						d.nc, d.off = dial(), 0
					}
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	time.Sleep(200 * time.Millisecond) // the drip under way

	// The echo: b.N round trips, shared out, each timed.
	lat := make([][]time.Duration, len(clients))
	per := (b.N + len(clients) - 1) / len(clients)
	for i := range lat {
		lat[i] = make([]time.Duration, 0, per)
	}
	var echo sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	d0 := dripped.Load()
	for i, c := range clients {
		echo.Add(1)
		go func() {
			defer echo.Done()
			for range per {
				t0 := time.Now()
				if _, err := c.nc.Write(c.out); err != nil {
					b.Error(err)
					return
				}
				if _, err := io.ReadFull(c.br, c.in); err != nil {
					b.Error(err)
					return
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		}()
	}
	echo.Wait()
	b.StopTimer()
	el := b.Elapsed().Seconds()
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(len(all))/el, "msg/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(dripped.Load()-d0)/el, "drip-B/s")
}
