package engine

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// The Node ws server (testdata/nodews/server.js) for the client tests: a process
// per test that needs it.

type cliNodeEvent struct {
	Event  string `json:"event"`
	ID     string `json:"id"`
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

type cliNodeWS struct {
	addr   string
	mu     sync.Mutex
	evs    map[string]chan cliNodeEvent
	stderr *syncBuf
}

// events returns the channel on which server.js reports the connection dialled
// with ?id=id (its close, or that /hang holds it). Call it before dialling.
func (n *cliNodeWS) events(id string) <-chan cliNodeEvent { return n.eventChan(id) }

func (n *cliNodeWS) eventChan(id string) chan cliNodeEvent {
	n.mu.Lock()
	defer n.mu.Unlock()
	ch, ok := n.evs[id]
	if !ok {
		ch = make(chan cliNodeEvent, 4)
		n.evs[id] = ch
	}
	return ch
}

var (
	cliNodeSetupOnce sync.Once
	cliNodeSetupErr  error
	cliNodeSkip      string
	cliNodeDir       string
	cliNodeBin       string

	nodeMu      sync.Mutex
	nodeServers = map[bool]*cliNodeWS{}
)

// cliNodeSetup finds node and the ws package. In CI (CI=true) both must be there
// (.ci/run installs them) and their absence fails the test; elsewhere it skips
// with one line naming what to install. Tests never write into the source tree.
func cliNodeSetup(t testing.TB) {
	t.Helper()
	cliNodeSetupOnce.Do(func() {
		ci := os.Getenv("CI") == "true"
		dir, err := filepath.Abs(filepath.Join("testdata", "nodews"))
		if err != nil {
			cliNodeSetupErr = err
			return
		}
		cliNodeDir = dir
		cliNodeBin, err = exec.LookPath("node")
		if err != nil {
			if ci {
				cliNodeSetupErr = fmt.Errorf("CI must provide node: %w", err)
			} else {
				cliNodeSkip = "node not found: install Node.js, then: cd engine/testdata/nodews && npm ci"
			}
			return
		}
		if cliNodeModulesThere(dir) {
			return
		}
		if ci {
			cliNodeSetupErr = fmt.Errorf("CI must run npm ci in %s: node_modules is incomplete", dir)
			return
		}
		cliNodeSkip = "Node peers not installed: cd engine/testdata/nodews && npm ci"
	})
	if cliNodeSetupErr != nil {
		t.Fatal(cliNodeSetupErr)
	}
	if cliNodeSkip != "" {
		t.Skip(cliNodeSkip)
	}
}

// cliNode starts a Node ws server, plain or TLS, for the test; it stops when the
// test ends (node exits when its stdin closes).
func cliNode(t testing.TB, secure bool) *cliNodeWS {
	t.Helper()
	cliNodeSetup(t)
	args := []string{"server.js"}
	if secure {
		dir := t.TempDir()
		c := cliTestCert(t)
		certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		if err := os.WriteFile(certFile, c.certPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keyFile, c.keyPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--tls", certFile, keyFile)
	}
	cmd := exec.Command(cliNodeBin, args...)
	cmd.Dir = cliNodeDir
	n := &cliNodeWS{evs: map[string]chan cliNodeEvent{}, stderr: &syncBuf{}}
	cmd.Stderr = n.stderr
	stdin, stdout := startPiped(t, cmd)
	done := make(chan struct{})
	sc := bufio.NewScanner(stdout)
	stop := func() {
		stdin.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	if !sc.Scan() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("node server.js printed no port: %v\n%s", sc.Err(), n.stderr)
	}
	var hello struct{ Port int }
	if err := json.Unmarshal(sc.Bytes(), &hello); err != nil || hello.Port == 0 {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("node server.js first line %q: %v\n%s", sc.Text(), err, n.stderr)
	}
	n.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(hello.Port))
	go func() {
		defer close(done)
		for sc.Scan() {
			var ev cliNodeEvent
			if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Event == "" {
				continue
			}
			select {
			case n.eventChan(ev.ID) <- ev:
			default:
			}
		}
		cmd.Wait()
	}()
	t.Cleanup(stop)
	return n
}

// cliNodeID returns a fresh connection tag for the Node server's events.
var cliNodeIDs atomic.Int64

func cliNodeID(t testing.TB) string {
	return fmt.Sprintf("%s-%d", strings.ReplaceAll(t.Name(), "/", "."), cliNodeIDs.Add(1))
}

// cliNodeInfo is what server.js sends first on /info.
type cliNodeInfo struct {
	Path     string            `json:"path"`
	Version  string            `json:"version"`
	Protocol string            `json:"protocol"`
	Origin   string            `json:"origin"`
	Headers  map[string]string `json:"headers"`
	Remote   string            `json:"remote"`
}

func cliReadNodeInfo(t *testing.T, c *Conn) cliNodeInfo {
	t.Helper()
	op, p, err := c.ReadMessage(cliCtx(t))
	if err != nil || op != frame.OpText {
		t.Fatalf("info message: %v %v", op, err)
	}
	var info cliNodeInfo
	if err := json.Unmarshal(p, &info); err != nil {
		t.Fatalf("info %q: %v", p, err)
	}
	return info
}

// cliNodeModulesThere says whether every package the Node peers use is installed.
func cliNodeModulesThere(dir string) bool {
	for _, pkg := range []string{"ws", "simple-socks"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			return false
		}
	}
	return true
}
