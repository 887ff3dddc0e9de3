package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// The attack suite: what a hostile client does to a server on the internet,
// against weir's server in a process of its own (attacktarget), so that its
// RSS, heap and fds are measured apart from the attacker's. Every case asserts
// a bound. With -attack-long the cases run at the sizes of the hardening issue
// (300 connections, 200 senders for 10 s, 2,000 readers for 30 s) and print the
// figures; without it they run smaller and shorter, for make test.

var attackLong = flag.Bool("attack-long", false, "run the attack cases at full size and print figures")

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// buildTarget builds attacktarget, and freshclient and floodclient beside it,
// once per test binary, and returns attacktarget's path.
func buildTarget(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "weir-attack")
		if buildErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", buildDir+"/", "./attacktarget", "./freshclient", "./floodclient").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./attacktarget ./freshclient ./floodclient: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "attacktarget")
}

// freshClients starts freshclient against the target: count handshakes and
// echoes, one every period, from a process of its own (so that the attackers'
// goroutines in this process do not delay it). The returned function waits for
// them and returns their times, in order.
func (tg *target) freshClients(t *testing.T, count int, every time.Duration) func() []time.Duration {
	t.Helper()
	buildTarget(t)
	cmd, out := startBuilt(t, "freshclient", "-addr", tg.ws, "-count", fmt.Sprint(count), "-every", every.String(), "-server-pid", fmt.Sprint(tg.cmd.Process.Pid))
	return func() []time.Duration {
		var ds []time.Duration
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			ns, err := strconv.ParseInt(sc.Text(), 10, 64)
			if err != nil {
				t.Fatalf("fresh client: %s", sc.Text())
			}
			ds = append(ds, time.Duration(ns))
		}
		if err := cmd.Wait(); err != nil || len(ds) != count {
			t.Fatalf("fresh client: %d of %d probes, %v", len(ds), count, err)
		}
		return ds
	}
}

// flood is a running floodclient: n connections to a target, open and
// upgraded, that send on go and never read.
type flood struct {
	in  io.WriteCloser
	out *bufio.Reader
	cmd *exec.Cmd
}

// startFlood starts floodclient against addr at the lowest priority (nice 19),
// as attackers on other machines would be (see floodclient's doc), and waits
// for its n connections to be upgraded.
func startFlood(t *testing.T, addr string, n, size int, dur time.Duration) *flood {
	t.Helper()
	buildTarget(t)
	cmd := exec.Command("nice", "-n", "19", filepath.Join(buildDir, "floodclient"),
		"-addr", addr, "-n", fmt.Sprint(n), "-size", fmt.Sprint(size), "-for", dur.String())
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f := &flood{in: in, out: bufio.NewReader(out), cmd: cmd}
	t.Cleanup(func() { f.close() })
	if line, err := f.out.ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("floodclient: %q, %v", line, err)
	}
	return f
}

// run tells the connections to send, and returns after they sent for the
// flood's time, with the number of messages written whole. It may run on any
// goroutine.
func (f *flood) run() (int64, error) {
	if _, err := io.WriteString(f.in, "go\n"); err != nil {
		return 0, err
	}
	line, err := f.out.ReadString('\n')
	var sent int64
	if _, serr := fmt.Sscanf(line, "sent %d", &sent); err != nil || serr != nil {
		return 0, fmt.Errorf("floodclient: %q, %v", line, err)
	}
	return sent, nil
}

// close closes the flood's connections (the process exits).
func (f *flood) close() {
	f.in.Close()
	f.cmd.Wait()
}

// target is a running attacktarget process.
type target struct {
	ws, mem string
	cmd     *exec.Cmd
}

// startBuilt starts one of buildTarget's programs, killed when the test ends,
// and returns its stdout.
func startBuilt(t *testing.T, name string, args ...string) (*exec.Cmd, io.Reader) {
	t.Helper()
	cmd := exec.Command(filepath.Join(buildDir, name), args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, out
}

func startTarget(t *testing.T, args ...string) *target {
	t.Helper()
	buildTarget(t)
	cmd, out := startBuilt(t, "attacktarget", args...)
	line, err := bufio.NewReader(out).ReadString('\n')
	f := strings.Fields(line)
	if err != nil || len(f) != 3 || f[0] != "ready" {
		t.Fatalf("attacktarget: %q, %v", line, err)
	}
	return &target{ws: f[1], mem: f[2], cmd: cmd}
}

// targetMem mirrors attacktarget's Mem (the fields the cases read).
type targetMem struct {
	RSS, HeapInuse int64
	Goroutines     int
	FDs, Conns     int
	Echoed         int64
	Refused        int64
	WritesRefused  uint64
	Budget         int64
	Stats          struct{ BytesIn, BytesOut uint64 }

	StackInuse                                int64
	PoolInUse, PoolWarm, PoolPeak, PoolMapped int64
	PoolWarmSmall                             int64
	RssAnon, RssFile                          int64
	RuntimeHeld, NextGC                       int64
	HeapIdleHeld, GCSys, MSpanSys, OtherSys   int64
	Threads                                   int64
}

// breakdown says where RSS growth from before to m went, in MiB: the outbound
// pool's buffers in use and warm, the Go heap in use, stacks, the runtime's
// held memory (heap, stacks and its own, less what it released), and file
// pages.
func breakdown(before, m targetMem) string {
	return fmt.Sprintf("RSS %+.1f = anon %+.1f + file %+.1f; pool in use %+.1f, warm %+.1f (below a page %+.1f; peak in use %.1f), mapped %+.1f; heap in use %+.1f, stacks %+.1f, runtime held %+.1f (next GC %.1f; idle heap %+.1f, GC metadata %+.1f, spans %+.1f, other %+.1f); threads %+d",
		mib(m.RSS-before.RSS), mib(m.RssAnon-before.RssAnon), mib(m.RssFile-before.RssFile),
		mib(m.PoolInUse-before.PoolInUse), mib(m.PoolWarm-before.PoolWarm), mib(m.PoolWarmSmall-before.PoolWarmSmall), mib(m.PoolPeak), mib(m.PoolMapped-before.PoolMapped),
		mib(m.HeapInuse-before.HeapInuse), mib(m.StackInuse-before.StackInuse), mib(m.RuntimeHeld-before.RuntimeHeld), mib(m.NextGC),
		mib(m.HeapIdleHeld-before.HeapIdleHeld), mib(m.GCSys-before.GCSys), mib(m.MSpanSys-before.MSpanSys), mib(m.OtherSys-before.OtherSys), m.Threads-before.Threads)
}

func (tg *target) memory(t *testing.T) targetMem {
	t.Helper()
	resp, err := http.Get("http://" + tg.mem + "/mem")
	if err != nil {
		t.Fatalf("target /mem: %v", err)
	}
	defer resp.Body.Close()
	var m targetMem
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// saveProfile saves the target's pprof profile name (allocs, heap) in the
// directory $ATTACK_PPROF_DIR, if set, as test-name.name.pb.gz: what a case
// allocated, for finding what grows under an attack.
func (tg *target) saveProfile(t *testing.T, name string) { tg.saveProfileAs(t, name, name) }

// saveProfileAs is saveProfile under file suffix as (a heap profile before and
// after, for a diff: go tool pprof -diff_base).
func (tg *target) saveProfileAs(t *testing.T, name, as string) {
	t.Helper()
	dir := os.Getenv("ATTACK_PPROF_DIR")
	if dir == "" {
		return
	}
	resp, err := http.Get("http://" + tg.mem + "/debug/pprof/" + name)
	if err != nil {
		t.Logf("profile %s: %v", name, err)
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_", ",", "").Replace(t.Name())+"."+as+".pb.gz"), b, 0o644)
	}
	if err != nil {
		t.Logf("profile %s: %v", name, err)
	}
}

// startBroadcast starts (or resumes) a target's broadcast (-broadcast-wait).
func (tg *target) startBroadcast(t *testing.T) { tg.get(t, "/start") }

// stopBroadcast pauses a target's broadcast.
func (tg *target) stopBroadcast(t *testing.T) { tg.get(t, "/stop") }

func (tg *target) get(t *testing.T, path string) {
	t.Helper()
	resp, err := http.Get("http://" + tg.mem + path)
	if err != nil {
		t.Fatalf("target %s: %v", path, err)
	}
	resp.Body.Close()
}

// alive checks that the target still answers: a fresh client's handshake and
// echo, returning how long that took.
func (tg *target) alive(t *testing.T) time.Duration {
	t.Helper()
	start := time.Now()
	r, resp, err := rawHandshake(tg.ws, stdReq().bytes(tg.ws), false)
	if err != nil {
		t.Fatalf("fresh client: %v", err)
	}
	defer r.nc.Close()
	if resp.StatusCode != 101 {
		t.Fatalf("fresh client: status %d", resp.StatusCode)
	}
	r.startFrames()
	if err := r.write(cf(true, frame.OpText, []byte("still there?"))); err != nil {
		t.Fatalf("fresh client write: %v", err)
	}
	for {
		// Skip what a broadcast sends meanwhile: the echo is the text message.
		op, p, err := r.expectMessage(badTimeout)
		if err != nil {
			t.Fatalf("fresh client echo: %v", err)
		}
		if op == frame.OpText {
			if string(p) != "still there?" {
				t.Fatalf("fresh client echo: %q", p)
			}
			break
		}
	}
	return time.Since(start)
}

// openRawN opens n upgraded raw connections to addr.
func openRawN(t *testing.T, addr string, n int) []*rawConn {
	t.Helper()
	conns := make([]*rawConn, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 64)
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			// A small receive buffer, as an attacker that never reads would
			// choose: the server's output backs up at once.
			d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
				return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
			}}
			nc, err := d.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			r, resp, err := rawHandshakeOn(nc, stdReq().bytes(addr), false)
			if err == nil && resp.StatusCode != 101 {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
			if err != nil {
				errs <- err
				return
			}
			conns[i] = r
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("opening %d connections: %v", n, err)
	}
	t.Cleanup(func() {
		for _, r := range conns {
			r.nc.Close()
		}
	})
	return conns
}

// waitFor polls cond until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// maskedHeader is a masked client frame header declaring n payload bytes.
func maskedHeader(fin bool, op frame.Opcode, n int64) []byte {
	return frame.AppendHeader(nil, frame.Header{Fin: fin, Opcode: op, Length: n, Masked: true, Mask: [4]byte{1, 2, 3, 4}})
}

func attackCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
