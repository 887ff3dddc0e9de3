package interop

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The peer side of the matrix: what a peer reports about a connection, and the two
// roles a peer can take. Process peers (Node, Python, Chromium) and in-process
// peers (gorilla, gobwas) present the same interfaces.

// supported are a peer server's subprotocols; weir's client offers
// offeredProtocols, so the only common one is "weir.v2" whatever order either side
// prefers.
var (
	supported        = []string{"weir.v2", "weir.v3"}
	offeredProtocols = []string{"weir.v1", "weir.v2"}
)

const (
	peerRejectReason = "peer says no" // a peer server's answer to /reject
	weirRejectReason = "weir says no" // weir's server's answer to /reject
)

// report is what a peer tells about one connection once it has ended.
type report struct {
	ID           string     `json:"id"`
	Lib          string     `json:"lib"`
	Open         bool       `json:"open"`
	Status       int        `json:"status"`       // the handshake status, when refused
	StatusReason string     `json:"statusReason"` // X-WebSocket-Reject-Reason, or the reason phrase
	Subprotocol  string     `json:"subprotocol"`
	Version      int        `json:"version"`
	Close        *closeInfo `json:"close"` // the close frame the peer received (code 0: not reported)
	Error        string     `json:"error"`
}

type closeInfo struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

// dialCmd asks a client peer to connect.
type dialCmd struct {
	ID        string   `json:"id"`
	URL       string   `json:"url"`
	Protocols []string `json:"protocols,omitempty"`
	Version   int      `json:"version,omitempty"`
}

// serverPeer is a peer listening for weir's client.
type serverPeer interface {
	// url is the address of the peer's endpoint path for connection id.
	url(path, id string) string
	// report returns the channel on which the report for id arrives.
	report(id string) <-chan report
	close()
}

// clientPeer is a peer that dials weir's server.
type clientPeer interface {
	// dial starts a connection; its report arrives on the channel.
	dial(cmd dialCmd) <-chan report
	close()
}

// mailbox hands reports to whoever waits for them, in either order.
type mailbox struct {
	mu sync.Mutex
	m  map[string]chan report
}

func (b *mailbox) box(id string) chan report {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string]chan report{}
	}
	ch, ok := b.m[id]
	if !ok {
		ch = make(chan report, 1)
		b.m[id] = ch
	}
	return ch
}

func (b *mailbox) put(r report) {
	select {
	case b.box(r.ID) <- r:
	default: // a second report for one id: keep the first
	}
}

func peerURL(port int, path, id string) string {
	return "ws://127.0.0.1:" + strconv.Itoa(port) + path + "?id=" + url.QueryEscape(id)
}

// proc is a peer running as a child process that speaks JSON lines.
type proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	box    mailbox
	first  chan map[string]any // the first line: listening or ready
	stderr *tailBuffer
	mu     sync.Mutex // serializes stdin writes
	port   int
	done   chan struct{}
}

// peerStartTimeout bounds a peer's start (its "ready" line): headless
// Chromium took over 60 s to come up at load 25-47 on 2 cores.
const peerStartTimeout = 150 * time.Second

// startProc starts argv in dir and waits for its first line (listening or ready).
func startProc(dir string, argv ...string) (*proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	p := &proc{cmd: cmd, first: make(chan map[string]any, 1), stderr: &tailBuffer{max: 64 << 10}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go p.readLoop(stdout)
	select {
	case m := <-p.first:
		if port, ok := m["port"].(float64); ok {
			p.port = int(port)
		}
		return p, nil
	case <-p.done:
		p.close()
		return nil, fmt.Errorf("%s exited before it was ready: %s", strings.Join(argv, " "), p.stderr.String())
	case <-time.After(peerStartTimeout):
		p.close()
		return nil, fmt.Errorf("%s not ready within %v: %s", strings.Join(argv, " "), peerStartTimeout, p.stderr.String())
	}
}

func (p *proc) readLoop(r io.Reader) {
	defer close(p.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	firstSeen := false
	for sc.Scan() {
		line := sc.Bytes()
		if !firstSeen {
			var m map[string]any
			if json.Unmarshal(line, &m) == nil {
				firstSeen = true
				p.first <- m
			}
			continue
		}
		var rep report
		if err := json.Unmarshal(line, &rep); err != nil || rep.ID == "" {
			continue
		}
		p.box.put(rep)
	}
}

// diag is the tail of the process's stderr, for failures.
func (p *proc) diag() string { return p.stderr.String() }

func (p *proc) url(path, id string) string     { return peerURL(p.port, path, id) }
func (p *proc) report(id string) <-chan report { return p.box.box(id) }

func (p *proc) dial(cmd dialCmd) <-chan report {
	ch := p.box.box(cmd.ID)
	b, _ := json.Marshal(cmd)
	p.mu.Lock()
	_, err := p.stdin.Write(append(b, '\n'))
	p.mu.Unlock()
	if err != nil {
		p.box.put(report{ID: cmd.ID, Error: "peer process gone: " + err.Error()})
	}
	return ch
}

// close ends the process: closing stdin asks it to exit, a kill follows if not.
func (p *proc) close() {
	p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
	}
	p.cmd.Wait()
}

// tailBuffer keeps the last max bytes written (a child's stderr, for failures).
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	t.mu.Unlock()
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.b))
}

// errPeerMissing: the peer is not installed here.
var errPeerMissing = errors.New("peer not installed")
