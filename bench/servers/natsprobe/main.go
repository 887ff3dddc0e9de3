// Command natsprobe measures what one NATS hop costs on this machine between
// processes that have nothing else to do: the control for the pub/sub
// benchmark's nats shape, run beside it against a natsd of its own. It
// re-executes itself as a subscriber process (-sub), publishes a stamped
// message every -every for -dur, and the subscriber prints the one-way
// latency (its clock at the message minus the stamp) as p10/p50/p90/p99 in
// ms. The path is the benchmark's hop without weir: a write from an awake
// process, the NATS server process waking to route it, the subscriber
// process waking to read it.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
)

func main() {
	url := flag.String("url", nats.DefaultURL, "NATS server")
	dur := flag.Duration("dur", 20*time.Second, "how long to publish")
	every := flag.Duration("every", 10*time.Millisecond, "publish interval")
	sub := flag.Bool("sub", false, "be the subscriber process (internal)")
	flag.Parse()
	if *sub {
		subscribe(*url)
		return
	}
	self, _ := os.Executable()
	cmd := exec.Command(self, "-sub", "-url", *url)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		fail(err)
	}
	if err := cmd.Start(); err != nil {
		fail(err)
	}
	nc, err := nats.Connect(*url)
	if err != nil {
		fail(err)
	}
	time.Sleep(500 * time.Millisecond) // the subscriber's SUB reaches the server
	var b [8]byte
	for end := time.Now().Add(*dur); time.Now().Before(end); time.Sleep(*every) {
		binary.BigEndian.PutUint64(b[:], uint64(time.Now().UnixNano()))
		nc.Publish("probe", b[:])
		nc.FlushTimeout(time.Second) // a PING round trip: one message in flight at a time
	}
	time.Sleep(200 * time.Millisecond)
	in.Close() // the subscriber prints and exits
	cmd.Wait()
}

func subscribe(url string) {
	nc, err := nats.Connect(url)
	if err != nil {
		fail(err)
	}
	ch := make(chan []float64, 1)
	ch <- nil
	nc.Subscribe("probe", func(m *nats.Msg) {
		if len(m.Data) == 8 {
			d := float64(time.Now().UnixNano()-int64(binary.BigEndian.Uint64(m.Data))) / 1e6
			ch <- append(<-ch, d)
		}
	})
	nc.Flush()
	bufio.NewReader(os.Stdin).ReadString('\n') // until the publisher closes stdin
	d := <-ch
	if len(d) == 0 {
		fail(fmt.Errorf("no message"))
	}
	slices.Sort(d)
	q := func(p float64) float64 { return d[min(len(d)-1, int(p*float64(len(d))))] }
	fmt.Printf("natsprobe: %d messages, one-way ms p10 %.3f p50 %.3f p90 %.3f p99 %.3f\n", len(d), q(.1), q(.5), q(.9), q(.99))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "natsprobe:", err)
	os.Exit(1)
}
