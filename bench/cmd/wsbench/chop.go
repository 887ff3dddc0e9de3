package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// chop is "wsbench chop": the conformance suite's cases 9.5/9.6 in isolation. One
// connection sends one masked binary frame of -size bytes, its bytes written in
// chops of -chop bytes (a write per chop; TCP_NODELAY unless -nodelay=false, so
// each chop is its own segment), and waits for the echo. The figure is the time
// from the first write to the last echoed byte, per chop. -gap spins that long
// between chops (an autobahn client spends tens of µs of CPU per chop). Every
// server is its own process, started once per chop size and repetition; the
// repetitions are interleaved across servers, and the first server's elapsed
// time is paired with each other's, rep by rep.
func runChop(args []string) {
	fs := flag.NewFlagSet("chop", flag.ExitOnError)
	only := fs.String("servers", "weir,weir-inline,weir-goroutine,gorilla", "servers")
	chopsF := fs.String("chops", "64,2048", "chop sizes in bytes")
	size := fs.Int("size", 1<<20, "message size in bytes")
	reps := fs.Int("reps", 3, "repetitions (the median is reported)")
	gap := fs.Duration("gap", 0, "spin this long between chops")
	nodelay := fs.Bool("nodelay", true, "TCP_NODELAY on the client")
	usePerf := fs.Bool("perf", false, "count the server's syscalls (perf stat -p) and context switches per chop")
	addr := fs.String("addr", "", "run the client only, against a server already listening here (for perf record)")
	fs.Parse(args)
	if *addr != "" {
		for _, cs := range strings.Split(*chopsF, ",") {
			chop, err := strconv.Atoi(strings.TrimSpace(cs))
			if err != nil || chop <= 0 {
				fatal(fmt.Errorf("bad chop %q", cs))
			}
			for range *reps {
				d, err := chopOnce(*addr, *size, chop, *gap, *nodelay)
				if err != nil {
					fatal(err)
				}
				fmt.Printf("%s %d B chops: %.1f ms\n", *addr, chop, d.Seconds()*1e3)
			}
		}
		return
	}

	// In the order given: the first is the reference of the paired ratios.
	servers := slices.DeleteFunc(pickServers(allServers(), *only), func(s server) bool { return s.raw })
	killChildrenOnSignal()
	dir, _ := os.Getwd()
	r := &runner{dir: dir, res: &Results{}}
	fmt.Printf("\n`wsbench chop %s`\n\nRepetitions interleaved (rep 1 of every server, then rep 2, ...; the order rotates per rep).\n\n| server | chop B | chops | total ms (median [min-max]) | µs/chop | server CPU µs/chop |\n|---|---|---|---|---|---|\n", strings.Join(args, " "))
	var ratios []string
	for _, cs := range strings.Split(*chopsF, ",") {
		chop, err := strconv.Atoi(strings.TrimSpace(cs))
		if err != nil || chop <= 0 {
			fatal(fmt.Errorf("bad chop %q", cs))
		}
		n := float64((*size + chop - 1) / chop)
		// tot[i][rep], NaN where a rep failed, so that reps stay paired.
		tot := make([][]float64, len(servers))
		cpu := make([][]float64, len(servers))
		pm := make([][]map[string]float64, len(servers))
		for rep := range *reps {
			for k := range servers {
				i := (k + rep) % len(servers)
				d, c, m, err := r.chopRep(servers[i], rep, *size, chop, *gap, *nodelay, *usePerf)
				if err != nil {
					r.fail("%v", err)
					tot[i] = append(tot[i], math.NaN())
					cpu[i] = append(cpu[i], math.NaN())
					continue
				}
				tot[i] = append(tot[i], d*1e3)
				cpu[i] = append(cpu[i], c)
				if m != nil {
					pm[i] = append(pm[i], m)
				}
			}
		}
		for i, s := range servers {
			ok := slices.DeleteFunc(slices.Clone(tot[i]), math.IsNaN)
			if len(ok) == 0 {
				continue
			}
			med := median(slices.Clone(ok))
			fmt.Printf("| %s | %d | %.0f | %.1f [%.1f-%.1f] | %.1f | %.1f |\n", s.name, chop, n, med,
				slices.Min(ok), slices.Max(ok), med*1e3/n, median(slices.DeleteFunc(slices.Clone(cpu[i]), math.IsNaN))*1e6/n)
			if len(pm[i]) > 0 {
				fmt.Printf("|  per chop (median of reps, whole server incl. handshake) | | | %s | | |\n", perfSummary(pm[i]))
			}
			if i == 0 {
				continue
			}
			var q []float64
			for rep := range tot[i] {
				if a, b := tot[i][rep], tot[0][rep]; !math.IsNaN(a) && !math.IsNaN(b) && b > 0 {
					q = append(q, a/b)
				}
			}
			if len(q) > 0 {
				ratios = append(ratios, fmt.Sprintf("| %d B | %s / %s | %.2f [%.2f-%.2f] | %d |", chop, servers[0].name, s.name,
					1/median(slices.Clone(q)), 1/slices.Max(q), 1/slices.Min(q), len(q)))
			}
		}
	}
	if len(ratios) > 0 {
		fmt.Printf("\nPaired by rep: elapsed time of the first server over each other's.\n\n| chop | ratio | median [min-max] | reps |\n|---|---|---|---|\n%s\n", strings.Join(ratios, "\n"))
	}
}

// chopRep runs one repetition against a fresh server process: the elapsed time
// (s), the server's CPU time (s) and, with usePerf, its syscall counts per chop.
func (r *runner) chopRep(s server, rep, size, chop int, gap time.Duration, nodelay, usePerf bool) (float64, float64, map[string]float64, error) {
	r.label = fmt.Sprintf("chop %s %dB #%d", s.name, chop, rep)
	sp, err := r.startServer(s, false, "")
	if err != nil {
		return 0, 0, nil, err
	}
	defer sp.stop()
	n := float64((size + chop - 1) / chop)
	var perfOut bytes.Buffer
	var perfCmd *exec.Cmd
	if usePerf {
		perfCmd = exec.Command("perf", "stat", "-x,", "-p", strconv.Itoa(sp.pid),
			"-e", strings.Join(perfEvents, ","))
		perfCmd.Stderr = &perfOut
		if perfCmd.Start() != nil {
			perfCmd = nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	c0 := sp.cpu()
	sw0, _ := ctxSwitches(sp.pid)
	d, err := chopOnce(sp.ws, size, chop, gap, nodelay)
	c1 := sp.cpu()
	sw1, _ := ctxSwitches(sp.pid)
	var m map[string]float64
	if perfCmd != nil {
		perfCmd.Process.Signal(os.Interrupt)
		perfCmd.Wait()
		m = parsePerf(perfOut.Bytes(), n)
		m["ctxsw(proc)"] = (sw1 - sw0) / n
	}
	if err != nil {
		return 0, 0, nil, err
	}
	return d.Seconds(), c1 - c0, m, nil
}

// chopOnce dials addr, upgrades, sends the chopped frame and reads the echo.
func chopOnce(addr string, size, chop int, gap time.Duration, nodelay bool) (time.Duration, error) {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	tc := nc.(*net.TCPConn)
	tc.SetNoDelay(nodelay)
	nc.SetDeadline(time.Now().Add(2 * time.Minute))
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		return 0, err
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return 0, fmt.Errorf("handshake: %w", err)
		}
		if line == "\r\n" {
			break
		}
	}
	// One masked binary frame, FIN set, 64-bit length (RFC 6455 §5.2).
	frame := make([]byte, 14+size)
	frame[0], frame[1] = 0x82, 0x80|127
	binary.BigEndian.PutUint64(frame[2:], uint64(size))
	var key [4]byte
	rand.Read(key[:])
	copy(frame[10:], key[:])
	payload := frame[14:]
	for i := range payload {
		payload[i] = byte(i) ^ key[i&3]
	}
	t0 := time.Now()
	if _, err := nc.Write(frame[:14]); err != nil {
		return 0, err
	}
	for off := 0; off < size; off += chop {
		if gap > 0 {
			for t := time.Now(); time.Since(t) < gap; {
			}
		}
		if _, err := nc.Write(payload[off:min(off+chop, size)]); err != nil {
			return 0, err
		}
	}
	// The echo: an unmasked frame with a 64-bit length, or several frames.
	got := 0
	hdr := make([]byte, 10)
	buf := make([]byte, 64<<10)
	for got < size {
		if _, err := io.ReadFull(br, hdr[:2]); err != nil {
			return 0, fmt.Errorf("echo after %d bytes: %w", got, err)
		}
		n := int(hdr[1] & 0x7f)
		switch n {
		case 126:
			io.ReadFull(br, hdr[2:4])
			n = int(binary.BigEndian.Uint16(hdr[2:4]))
		case 127:
			io.ReadFull(br, hdr[2:10])
			n = int(binary.BigEndian.Uint64(hdr[2:10]))
		}
		for n > 0 {
			k, err := br.Read(buf[:min(n, len(buf))])
			if err != nil {
				return 0, err
			}
			n -= k
			if hdr[0]&0x0f != 0x9 && hdr[0]&0x0f != 0xa {
				got += k
			}
		}
	}
	return time.Since(t0), nil
}

// perfSummary is the median of each per-chop count over the repetitions.
func perfSummary(pm []map[string]float64) string {
	keys := []string{"syscalls", "epoll_pwait", "epoll_wait", "futex", "read", "write", "context-switches", "ctxsw(proc)"}
	var parts []string
	for _, k := range keys {
		var v []float64
		for _, m := range pm {
			v = append(v, m[k])
		}
		parts = append(parts, fmt.Sprintf("%s %.2f", k, median(v)))
	}
	return strings.Join(parts, ", ")
}
