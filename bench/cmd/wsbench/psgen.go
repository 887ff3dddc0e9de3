package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// psgen is "wsbench psgen": one pub/sub load process, started by "wsbench pubsub".
// It opens -subs WebSocket subscribers (subscriber i of this process, counting
// from -first, takes topic room.<i mod -topics>) and, with -pub, publishes on the
// server's TCP ingress (bench/internal/srvkit/pubsub.go) to room.<k mod -ptopics>
// in turn. Every payload carries the publisher's wall clock ("T" and 16 hex
// digits, inside a JSON string so that centrifuge takes it as data); a subscriber
// records now minus that stamp per delivery. Commands on stdin, one a line:
// "rate R" (publishes/s, publisher only), "size S", "mark" (zero the counters),
// "report" (print them as one JSON line). "ready N FAILED" is printed once
// everyone is connected and has asked to subscribe. With -firsts the report
// also lists, per publish (its stamp), this process's first delivery latency,
// so that "wsbench pubsub -shape nats" can pair node B's first delivery of a
// publish with node A's: the NATS hop alone, without either node's fan-out.

// psReport is one process's counters since its last mark.
type psReport struct {
	Delivered uint64 `json:"n"`
	Sent      uint64 `json:"sent"`
	// Hist is the latency histogram (pshist.go), sparse: bucket index and
	// count pairs, flattened, for the buckets that are not empty.
	Hist []uint64 `json:"h"`
	// FirstStamps[i] is a publish's stamp and FirstNs[i] the latency of its
	// first delivery here (-firsts only).
	FirstStamps []uint64 `json:"fs,omitempty"`
	FirstNs     []int64  `json:"fl,omitempty"`
}

type psGen struct {
	hist      [histBuckets]atomic.Uint64
	delivered atomic.Uint64
	sent      atomic.Uint64
	rate      atomic.Uint64 // math.Float64bits of publishes/s
	size      atomic.Int64

	firstsOn bool
	fmu      sync.Mutex
	firsts   map[uint64]int64 // stamp -> first delivery latency, ns
}

// maxFirsts bounds the per-publish map of a window (a few seconds at the
// nats shape's rates need a few thousand).
const maxFirsts = 1 << 16

func (g *psGen) first(stamp uint64, ns int64) {
	g.fmu.Lock()
	if v, ok := g.firsts[stamp]; !ok && len(g.firsts) < maxFirsts || ok && ns < v {
		g.firsts[stamp] = ns
	}
	g.fmu.Unlock()
}

func (g *psGen) mark() {
	for i := range g.hist {
		g.hist[i].Store(0)
	}
	g.delivered.Store(0)
	g.sent.Store(0)
	g.fmu.Lock()
	clear(g.firsts)
	g.fmu.Unlock()
}

func (g *psGen) report() psReport {
	r := psReport{Delivered: g.delivered.Load(), Sent: g.sent.Load()}
	for i := range g.hist {
		if v := g.hist[i].Load(); v > 0 {
			r.Hist = append(r.Hist, uint64(i), v)
		}
	}
	g.fmu.Lock()
	for st, ns := range g.firsts {
		r.FirstStamps = append(r.FirstStamps, st)
		r.FirstNs = append(r.FirstNs, ns)
	}
	g.fmu.Unlock()
	return r
}

func runPsGen(args []string) {
	fs := flag.NewFlagSet("psgen", flag.ExitOnError)
	ws := fs.String("ws", "", "server WebSocket address")
	pub := fs.String("pub", "", "server publish ingress (this process publishes)")
	subs := fs.Int("subs", 0, "subscribers")
	first := fs.Int("first", 0, "index of this process's first subscriber")
	topics := fs.Int("topics", 1, "topics the subscribers are spread over")
	ptopics := fs.Int("ptopics", 1, "topics the publisher goes round")
	proto := fs.String("proto", "ws", "ws (first message is the topic) or centrifuge (its JSON protocol)")
	firsts := fs.Bool("firsts", false, "report each publish's first delivery latency")
	fs.Parse(args)

	g := &psGen{firstsOn: *firsts, firsts: make(map[uint64]int64)}
	g.size.Store(128)
	var failed atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range *subs {
		topic := "room." + strconv.Itoa((*first+i)%*topics)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			c, br, err := psSubscribe(*ws, topic, *proto)
			<-sem
			wg.Done()
			if err != nil {
				failed.Add(1)
				fmt.Fprintln(os.Stderr, "psgen:", err)
				return
			}
			g.read(c, br, *proto == "centrifuge")
		}()
	}
	wg.Wait()
	if *pub != "" {
		go g.publish(*pub, *ptopics)
	}
	fmt.Printf("ready %d %d\n", *subs-int(failed.Load()), failed.Load())
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "rate":
			v, _ := strconv.ParseFloat(f[1], 64)
			g.rate.Store(math.Float64bits(v))
		case "size":
			v, _ := strconv.Atoi(f[1])
			g.size.Store(int64(v))
		case "mark":
			g.mark()
			fmt.Println("marked")
		case "report":
			b, _ := json.Marshal(g.report())
			fmt.Printf("%s\n", b)
		}
	}
}

// psSubscribe opens a WebSocket connection and subscribes it to topic.
func psSubscribe(addr, topic, proto string) (net.Conn, *bufio.Reader, error) {
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	br := bufio.NewReaderSize(c, 16<<10)
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	line, err := br.ReadString('\n')
	if err != nil || !strings.Contains(line, " 101 ") {
		c.Close()
		return nil, nil, fmt.Errorf("handshake: %q %v", line, err)
	}
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			c.Close()
			return nil, nil, err
		}
		if l == "\r\n" {
			break
		}
	}
	c.SetReadDeadline(time.Time{})
	if proto == "centrifuge" {
		err = writeMasked(c, 1, []byte(`{"id":1,"connect":{}}`))
		if err == nil {
			err = writeMasked(c, 1, []byte(`{"id":2,"subscribe":{"channel":"`+topic+`"}}`))
		}
	} else {
		err = writeMasked(c, 1, []byte(topic))
	}
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, br, nil
}

// writeMasked writes one client frame with a zero masking key (RFC 6455 §5.3: the
// key is the client's choice; zero leaves the payload as it is).
func writeMasked(w io.Writer, op byte, p []byte) error {
	hdr := []byte{0x80 | op, 0x80 | byte(len(p)), 0, 0, 0, 0}
	if len(p) >= 126 {
		panic("writeMasked: short frames only")
	}
	_, err := w.Write(append(hdr, p...))
	return err
}

// read counts the deliveries on c until it closes.
func (g *psGen) read(c net.Conn, br *bufio.Reader, centrifuge bool) {
	defer c.Close()
	var buf []byte
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(br, hdr[:2]); err != nil {
			return
		}
		op, n := hdr[0]&0x0f, uint64(hdr[1]&0x7f)
		switch n {
		case 126:
			if _, err := io.ReadFull(br, hdr[:2]); err != nil {
				return
			}
			n = uint64(binary.BigEndian.Uint16(hdr[:2]))
		case 127:
			if _, err := io.ReadFull(br, hdr[:8]); err != nil {
				return
			}
			n = binary.BigEndian.Uint64(hdr[:8])
		}
		if n > 16<<20 {
			return
		}
		if uint64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		p := buf[:n]
		if _, err := io.ReadFull(br, p); err != nil {
			return
		}
		switch {
		case op == 9: // ping
			if writePong(c, p) != nil {
				return
			}
			continue
		case op == 8:
			return
		case centrifuge && len(p) == 2 && p[0] == '{' && p[1] == '}':
			// centrifuge's JSON ping: answer with a pong ({}).
			if writeMasked(c, 1, p) != nil {
				return
			}
			continue
		}
		now := time.Now().UnixNano()
		for {
			i := bytes.Index(p, []byte(`"T`))
			if i < 0 || len(p) < i+18 {
				break
			}
			ts, err := strconv.ParseUint(string(p[i+2:i+18]), 16, 64)
			p = p[i+18:]
			if err != nil {
				continue
			}
			g.delivered.Add(1)
			g.hist[histIdx(float64(now-int64(ts))/1e3)].Add(1)
			if g.firstsOn {
				g.first(ts, now-int64(ts))
			}
		}
	}
}

func writePong(c net.Conn, p []byte) error {
	if len(p) >= 126 {
		p = p[:0]
	}
	return writeMasked(c, 10, p)
}

// publish writes publishes to the ingress at the current rate, stamped.
func (g *psGen) publish(addr string, ptopics int) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		fatal(err)
	}
	bw := bufio.NewWriterSize(c, 64<<10)
	names := make([]string, ptopics)
	for i := range names {
		names[i] = "room." + strconv.Itoa(i)
	}
	var msg []byte
	k := 0
	var done float64
	last := time.Now()
	tick := time.NewTicker(time.Millisecond)
	for now := range tick.C {
		rate := math.Float64frombits(g.rate.Load())
		done += rate * now.Sub(last).Seconds()
		last = now
		if rate == 0 {
			done = 0
			continue
		}
		for ; done >= 1; done-- {
			size := int(g.size.Load())
			topic := names[k%ptopics]
			k++
			msg = binary.BigEndian.AppendUint16(msg[:0], uint16(len(topic)))
			msg = append(msg, topic...)
			msg = binary.BigEndian.AppendUint32(msg, uint32(size))
			msg = append(msg, `"T`...)
			msg = fmt.Appendf(msg, "%016x", time.Now().UnixNano())
			for range size - 19 {
				msg = append(msg, 'x')
			}
			msg = append(msg, '"')
			bw.Write(msg)
			g.sent.Add(1)
		}
		if bw.Flush() != nil {
			return
		}
	}
}
