package interop

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// Weir's side of a cell: a fresh engine (server or client) per scenario, a
// recorder Handler that turns callbacks into channels, and the exchange the
// scenario drives.

type role int

const (
	weirServer role = iota // weir's server, the peer dials
	weirClient             // weir's client, the peer listens
)

func (r role) String() string {
	if r == weirServer {
		return "weir server"
	}
	return "weir client"
}

type message struct {
	op   frame.Opcode
	data []byte
}

type closeEvent struct {
	code   frame.StatusCode
	reason string
	err    error
}

// recorder is the Handler of weir's side of one connection.
type recorder struct {
	engine.NopHandler
	open   chan *engine.Conn
	msgs   chan message
	pings  chan []byte
	pongs  chan []byte
	closed chan closeEvent
	echo   bool         // echo messages instead of recording them
	npings atomic.Int64 // pings seen
}

func newRecorder() *recorder {
	return &recorder{
		open: make(chan *engine.Conn, 1), msgs: make(chan message, 1024),
		pings: make(chan []byte, 1024), pongs: make(chan []byte, 1024), closed: make(chan closeEvent, 1),
	}
}

func (r *recorder) OnOpen(c *engine.Conn) { r.open <- c }
func (r *recorder) OnMessage(c *engine.Conn, op frame.Opcode, p []byte) {
	if r.echo {
		c.WriteMessage(op, p)
		return
	}
	r.msgs <- message{op, append([]byte(nil), p...)}
}

// OnPing and OnPong keep the first 1024 payloads and count all (a flood must not
// block the engine's worker).
func (r *recorder) OnPing(c *engine.Conn, p []byte) bool {
	r.npings.Add(1)
	select {
	case r.pings <- append([]byte(nil), p...):
	default:
	}
	return true
}
func (r *recorder) OnPong(c *engine.Conn, p []byte) {
	select {
	case r.pongs <- append([]byte(nil), p...):
	default:
	}
}
func (r *recorder) OnClose(c *engine.Conn, code frame.StatusCode, reason string, err error) {
	r.closed <- closeEvent{code, reason, err}
}

var connIDs atomic.Int64

func nextID() string { return fmt.Sprintf("c%d", connIDs.Add(1)) }

// Step timeouts: generous, for 8 MiB echoes through a browser or Python on a
// shared 2-core machine (python-websockets' 8 MiB text echo passed 20 s once
// in the full suite at load 15; alone, at the same load, the test took 8 s;
// a browser's report of deflate-no-takeover/weir-server/chromium/echo/text
// passed 15 s in 3 of 3 runs at load 21-34); a hang still ends the cell.
const (
	stepTimeout   = 60 * time.Second
	reportTimeout = 60 * time.Second
)

// exchange is one connection of one cell, as a scenario sees it.
type exchange struct {
	peer    *peerSpec
	role    role
	c       *engine.Conn // nil when the handshake failed
	rec     *recorder
	reports <-chan report
	dialErr error   // weir's client: the Dial error
	rep     *report // the peer's report, once read
	notes   []string
}

func (x *exchange) note(format string, args ...any) {
	x.notes = append(x.notes, fmt.Sprintf(format, args...))
}

// Errors a scenario returns for what the peer did; limits match on them.
type (
	// errUnsupported: the peer's agent answered "@@unsupported WHAT: WHY".
	errUnsupported struct{ what string }
	// errPeerClosed: the connection closed while the scenario still expected data.
	errPeerClosed struct {
		code   frame.StatusCode
		reason string
		err    error
	}
	// errRefused: the handshake failed (status 0: no HTTP answer seen).
	errRefused struct {
		status int
		detail string
	}
)

func (e *errUnsupported) Error() string { return "peer: unsupported " + e.what }
func (e *errPeerClosed) Error() string {
	return fmt.Sprintf("connection closed early: %d %q (%v)", e.code, e.reason, e.err)
}
func (e *errRefused) Error() string {
	return fmt.Sprintf("handshake refused: status %d: %s", e.status, e.detail)
}

// next waits for the next data message.
func (x *exchange) next() (message, error) {
	select {
	case m := <-x.rec.msgs:
		return m, nil
	case ev := <-x.rec.closed:
		x.rec.closed <- ev // keep it for whoever waits for the close
		return message{}, &errPeerClosed{ev.code, ev.reason, ev.err}
	case <-time.After(stepTimeout):
		return message{}, fmt.Errorf("no message within %v", stepTimeout)
	}
}

// send writes a message; a closed connection surfaces as errPeerClosed.
func (x *exchange) send(op frame.Opcode, p []byte) error {
	if err := x.c.WriteMessage(op, p); err != nil {
		return x.closedOr(err)
	}
	return nil
}

// closedOr turns a write error into errPeerClosed when the connection has closed.
func (x *exchange) closedOr(err error) error {
	select {
	case ev := <-x.rec.closed:
		x.rec.closed <- ev
		return &errPeerClosed{ev.code, ev.reason, ev.err}
	case <-time.After(time.Second):
		return err
	}
}

// echo sends p and expects it back unchanged, with the same opcode.
func (x *exchange) echo(op frame.Opcode, p []byte) error {
	if err := x.send(op, p); err != nil {
		return err
	}
	return x.expect(op, p)
}

// expect waits for the next message and compares it with op and p.
func (x *exchange) expect(op frame.Opcode, p []byte) error {
	m, err := x.next()
	if err != nil {
		return err
	}
	if m.op != op || string(m.data) != string(p) {
		return fmt.Errorf("echo of %d-byte %v: got %d-byte %v (%s)", len(p), op, len(m.data), m.op, firstDiff(p, m.data))
	}
	return nil
}

// command sends an agent command and returns its answer (a text message
// starting with want), or errUnsupported.
func (x *exchange) command(cmd, want string) (string, error) {
	if err := x.send(frame.OpText, []byte(cmd)); err != nil {
		return "", err
	}
	return x.answer(want)
}

func (x *exchange) answer(want string) (string, error) {
	m, err := x.next()
	if err != nil {
		return "", err
	}
	s := string(m.data)
	if what, ok := strings.CutPrefix(s, "@@unsupported "); ok {
		return "", &errUnsupported{what}
	}
	if m.op != frame.OpText || !strings.HasPrefix(s, want) {
		return "", fmt.Errorf("agent answered %q, want %q...", clip(s), want)
	}
	return s, nil
}

// closeNormal closes with 1000 and waits for a clean end: the epilogue of the
// scenarios that are not about closing.
func (x *exchange) closeNormal() error {
	if err := x.c.Close(frame.StatusNormalClosure, "done"); err != nil {
		return err
	}
	ev, err := x.waitClose()
	if err != nil {
		return err
	}
	if ev.err != nil {
		return fmt.Errorf("close: OnClose %d %q err %v, want a clean close", ev.code, ev.reason, ev.err)
	}
	return x.cleanReport()
}

// cleanReport waits for the peer's report and fails on an error the peer saw.
func (x *exchange) cleanReport() error {
	r, err := x.report()
	if err != nil {
		return err
	}
	if r.Error != "" {
		return fmt.Errorf("the peer reported an error: %s", r.Error)
	}
	return nil
}

func (x *exchange) waitClose() (closeEvent, error) {
	select {
	case ev := <-x.rec.closed:
		x.rec.closed <- ev
		return ev, nil
	case <-time.After(stepTimeout):
		return closeEvent{}, fmt.Errorf("no OnClose within %v", stepTimeout)
	}
}

// report waits for the peer's report of this connection.
func (x *exchange) report() (*report, error) {
	if x.rep != nil {
		return x.rep, nil
	}
	select {
	case r := <-x.reports:
		x.rep = &r
		return x.rep, nil
	case <-time.After(reportTimeout):
		return nil, fmt.Errorf("no report from the peer within %v", reportTimeout)
	}
}

// weirUpgrader is the server's handshake policy for the matrix: the page Chromium
// runs is served from another port, /reject is refused with 403, and the id of
// the connection is kept as user data.
func weirUpgrader() *upgrade.Upgrader {
	return &upgrade.Upgrader{
		OriginPatterns: []string{"127.0.0.1:*", "localhost:*"},
		Subprotocols:   supported,
		Verify: func(r *upgrade.Request, d *upgrade.Decision) {
			if r.Path() == "/reject" {
				d.Reject(403, weirRejectReason)
			}
		},
	}
}

// openServerSide starts weir's server for one scenario and has the client peer
// dial it; the exchange is ready once OnOpen ran (or the handshake failed).
func openServerSide(p *peerSpec, cp clientPeer, sc *scenario, v variant) (*exchange, func(), error) {
	rec := newRecorder()
	cfg := v.config(sc.config)
	cfg.Compression = v.deflate
	srv, err := engine.NewServer(rec, &cfg, weirUpgrader())
	if err != nil {
		return nil, nil, err
	}
	if err := v.wss.listen(srv); err != nil { // nil wss: srv.Listen
		return nil, nil, err
	}
	stop := func() { v.wss.check(srv); srv.Close() }
	id := nextID()
	port := srv.Addr().(*net.TCPAddr).Port
	x := &exchange{peer: p, role: weirServer, rec: rec}
	x.reports = cp.dial(dialCmd{ID: id, URL: v.wss.url(peerURL(port, sc.pathOr(), id)), Protocols: sc.protocols(), Version: sc.version})
	select {
	case x.c = <-rec.open:
		v.wss.sawOpen(x.c, sc.key())
	case r := <-x.reports:
		x.rep = &r
		if !sc.refused {
			return x, stop, &errRefused{r.Status, strings.TrimSpace(r.StatusReason + " " + r.Error)}
		}
	case <-time.After(stepTimeout):
		return x, stop, fmt.Errorf("peer did not connect within %v", stepTimeout)
	}
	return x, stop, nil
}

// openClientSide dials the server peer with weir's client for one scenario.
func openClientSide(p *peerSpec, sp serverPeer, sc *scenario, v variant) (*exchange, func(), error) {
	rec := newRecorder()
	cfg := v.config(sc.config)
	cl, err := engine.NewClient(nil, &cfg)
	if err != nil {
		return nil, nil, err
	}
	id := nextID()
	x := &exchange{peer: p, role: weirClient, rec: rec, reports: sp.report(id)}
	stop := func() { v.wss.checkClient(cl, x.c != nil, sc.key()); cl.Close() } // nil wss: cl.Close
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	opts := &engine.DialOptions{Handler: rec, Subprotocols: sc.protocols(), Version: sc.version, NoProxy: true,
		Compression: v.deflate, TLSConfig: v.wss.clientConfig()}
	x.c, _, x.dialErr = cl.Dial(ctx, v.wss.url(sp.url(sc.pathOr(), id)), opts)
	if x.dialErr != nil {
		var he *upgrade.HandshakeError
		if sc.refused {
			return x, stop, nil
		}
		if errors.As(x.dialErr, &he) {
			return x, stop, &errRefused{he.Status, he.Reason}
		}
		return x, stop, x.dialErr
	}
	v.wss.sawOpen(x.c, sc.key())
	select {
	case <-rec.open:
	case <-time.After(stepTimeout):
		return x, stop, fmt.Errorf("no OnOpen within %v after Dial", stepTimeout)
	}
	return x, stop, nil
}

func firstDiff(want, got []byte) string {
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			return fmt.Sprintf("first difference at byte %d", i)
		}
	}
	if len(want) != len(got) {
		return fmt.Sprintf("lengths %d and %d", len(want), len(got))
	}
	return "same bytes"
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
