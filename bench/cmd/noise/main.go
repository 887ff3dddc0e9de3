// Command noise is the benchmark's neighbour load: processes that keep a machine
// busy the way a shared gateway box is, so that a server can be measured beside
// them on demand (issue 15's "heavy mixed load"). Each ingredient is a flag, so
// that they can be varied one at a time:
//
//	-pp N        N ping-pong processes: each holds -pairs loopback TCP connections,
//	             and on each a client and a server goroutine bounce -size bytes
//	             back and forth as fast as they can (softirq and loopback traffic,
//	             many short blocking waits)
//	-lock        each ping-pong goroutine locks its OS thread: 2*pairs threads per
//	             process that block in read and are woken per message (many
//	             runnable threads, a context switch per hop)
//	-pprocs N    GOMAXPROCS of each ping-pong process (0: the runtime's default)
//	-hogs N      N CPU hog processes, each one busy thread
//	-sleepers N  N threads (in one process) that sleep -nap and spin -spin, over
//	             and over: many short runnable bursts, timer interrupts
//	-nice K      nice value for all of the above (0: unchanged)
//
// noise runs until it is signalled (or for -for) and ends its children with it.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

func main() {
	child := flag.String("child", "", "internal: run as a child of this kind (pp, hog, sleepers)")
	pp := flag.Int("pp", 0, "ping-pong processes")
	pairs := flag.Int("pairs", 16, "connections per ping-pong process")
	size := flag.Int("size", 64, "ping-pong message size in bytes")
	lock := flag.Bool("lock", false, "lock each ping-pong goroutine to its own OS thread")
	pprocs := flag.Int("pprocs", 0, "GOMAXPROCS of each ping-pong process (0: default)")
	hogs := flag.Int("hogs", 0, "CPU hog processes")
	sleepers := flag.Int("sleepers", 0, "threads that nap and spin")
	nap := flag.Duration("nap", 200*time.Microsecond, "sleepers: sleep this long")
	spin := flag.Duration("spin", 50*time.Microsecond, "sleepers: then spin this long")
	nice := flag.Int("nice", 0, "nice value of the load processes")
	dur := flag.Duration("for", 0, "stop after this long (0: until signalled)")
	flag.Parse()

	switch *child {
	case "pp":
		if *pprocs > 0 {
			runtime.GOMAXPROCS(*pprocs)
		}
		pingPong(*pairs, *size, *lock)
		return
	case "hog":
		hog()
		return
	case "sleepers":
		sleepersRun(*sleepers, *nap, *spin)
		return
	case "":
	default:
		fmt.Fprintln(os.Stderr, "noise: unknown -child", *child)
		os.Exit(2)
	}

	self, _ := os.Executable()
	var cmds []*exec.Cmd
	start := func(args ...string) {
		c := exec.Command(self, args...)
		c.Stderr = os.Stderr
		if err := c.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "noise:", err)
			return
		}
		if *nice != 0 {
			syscall.Setpriority(syscall.PRIO_PROCESS, c.Process.Pid, *nice)
		}
		cmds = append(cmds, c)
	}
	for range *pp {
		start("-child", "pp", "-pairs", strconv.Itoa(*pairs), "-size", strconv.Itoa(*size),
			"-lock="+strconv.FormatBool(*lock), "-pprocs", strconv.Itoa(*pprocs))
	}
	for range *hogs {
		start("-child", "hog")
	}
	if *sleepers > 0 {
		start("-child", "sleepers", "-sleepers", strconv.Itoa(*sleepers), "-nap", nap.String(), "-spin", spin.String())
	}
	fmt.Printf("NOISE pid=%d children=%d\n", os.Getpid(), len(cmds))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	if *dur > 0 {
		select {
		case <-sig:
		case <-time.After(*dur):
		}
	} else {
		<-sig
	}
	for _, c := range cmds {
		c.Process.Kill()
	}
	for _, c := range cmds {
		c.Wait()
	}
}

// pingPong bounces size bytes over pairs loopback connections until killed.
func pingPong(pairs, size int, lock bool) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "noise:", err)
		os.Exit(1)
	}
	bounce := func(c net.Conn, first bool) {
		if lock {
			runtime.LockOSThread()
		}
		buf := make([]byte, size)
		if first {
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go bounce(c, false)
		}
	}()
	var wg sync.WaitGroup
	for range pairs {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			fmt.Fprintln(os.Stderr, "noise:", err)
			os.Exit(1)
		}
		wg.Add(1)
		go func() { defer wg.Done(); bounce(c, true) }()
	}
	wg.Wait()
}

var sink uint64

// hog spins one thread forever.
func hog() {
	runtime.GOMAXPROCS(1)
	x := uint64(1)
	for {
		for i := 0; i < 1<<20; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
		sink = x
	}
}

// sleepersRun runs n threads that nap and spin in turn.
func sleepersRun(n int, nap, spin time.Duration) {
	runtime.GOMAXPROCS(n)
	for range n {
		go func() {
			runtime.LockOSThread()
			ts := syscall.NsecToTimespec(nap.Nanoseconds())
			for {
				syscall.Nanosleep(&ts, nil)
				for t := time.Now(); time.Since(t) < spin; {
				}
			}
		}()
	}
	select {}
}
