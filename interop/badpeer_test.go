package interop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// TestBadPeer runs the bad-peer table (badpeer_cases_test.go), each row written at
// once and dripped one byte at a time, and the resource cases below. Every case
// checks the exact answer, that weir hangs up (no hang), and that the connection
// is gone from the server afterwards. A panic in the engine fails the whole run.

// badResult is one row of the bad-peer list in docs/conformance.md.
type badResult struct {
	group, name, rule, expect string
	failures                  []string // per mode; empty: pass
	ran                       int      // modes run
}

var badResults = struct {
	sync.Mutex
	rows map[string]*badResult
}{rows: map[string]*badResult{}}

// recordBad records one run of a row and returns its failure message ("" when it
// passed), naming the weir bug behind it if known.
func recordBad(group, name, rule, expect, mode string, err error) string {
	badResults.Lock()
	defer badResults.Unlock()
	k := group + "/" + name
	r, ok := badResults.rows[k]
	if !ok {
		r = &badResult{group: group, name: name, rule: rule, expect: expect}
		badResults.rows[k] = r
	}
	r.ran++
	if err == nil {
		return ""
	}
	msg := mode + ": " + err.Error()
	if bug := bugForBadPeer(group, name, mode); bug != "" {
		msg = bug + ", " + msg
	}
	r.failures = append(r.failures, msg)
	return msg
}

// badMode is one of weir's ways of running a connection; every case runs in each.
type badMode struct {
	name  string
	apply func(*engine.Config)
}

var badModes = []badMode{
	{"pool", func(*engine.Config) {}},
	{"inline", func(c *engine.Config) { c.Dispatch = engine.DispatchInline }},
	{"goroutine", func(c *engine.Config) { c.GoroutinePerConn = true }},
}

func (m badMode) config(c engine.Config) engine.Config {
	m.apply(&c)
	if c.CloseTimeout == 0 {
		c.CloseTimeout = closeTimeout
	}
	return c
}

var writeModes = []struct {
	name string
	drip bool
}{{"whole", false}, {"drip", true}}

// Timeouts of the suite: weir's answers come within milliseconds; these only end
// a hang.
const (
	badTimeout   = 10 * time.Second
	closeTimeout = 2 * time.Second  // engine.Config.CloseTimeout in the suite
	caseTimeout  = 60 * time.Second // a whole case, hung or not
)

// within runs f and gives up on it after d (its goroutine is then left behind,
// blocked wherever weir blocked it).
func within(d time.Duration, f func() error) error {
	ch := make(chan error, 1)
	go func() { ch <- f() }()
	select {
	case err := <-ch:
		return err
	case <-time.After(d):
		return fmt.Errorf("hung: the case did not finish within %v", d)
	}
}

// closeServer closes srv, but waits for it only so long (Server.Close itself
// gives connections 5 s).
func closeServer(srv *engine.Server) {
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(8 * time.Second):
	}
}

// closeClient is closeServer for a Client.
func closeClient(cl *engine.Client) {
	done := make(chan struct{})
	go func() { cl.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(8 * time.Second):
	}
}

func TestBadPeer(t *testing.T) {
	// Resource cases first and one at a time: they measure the heap.
	for _, rc := range resourceCases {
		for _, m := range badModes {
			t.Run("resource/"+rc.name+"/"+m.name, func(t *testing.T) {
				err := within(caseTimeout, func() error { return rc.run(t.Logf, m) })
				if msg := recordBad("resource", rc.name, rc.rule, rc.expect, m.name, err); msg != "" {
					t.Error(msg)
				}
			})
		}
	}
	for _, hc := range handshakeCases {
		expect := fmt.Sprintf("HTTP %d", hc.status)
		if hc.header[0] != "" {
			expect += fmt.Sprintf(", %s: %s", hc.header[0], hc.header[1])
		}
		forModes(t, "handshake/"+hc.name, func(m badMode, drip bool) error { return runHandshakeCase(hc, m, drip) },
			func(mode string, err error) string {
				return recordBad("handshake", hc.name, hc.rule, expect, mode, err)
			})
	}
	for _, fc := range frameCases {
		expect := fmt.Sprintf("close %d, OnClose %s", fc.code, errName(fc.err))
		forModes(t, "frame/"+fc.name, func(m badMode, drip bool) error { return runFrameCase(fc, m, drip) },
			func(mode string, err error) string { return recordBad("frame", fc.name, fc.rule, expect, mode, err) })
	}
	for _, cc := range clientCases {
		expect := clientExpect(cc)
		forModes(t, "client/"+cc.name, func(m badMode, drip bool) error { return runClientCase(cc, m, drip) },
			func(mode string, err error) string { return recordBad("client", cc.name, cc.rule, expect, mode, err) })
	}
}

// forModes runs a table row in every engine mode, written whole and dripped, as
// parallel subtests.
func forModes(t *testing.T, name string, run func(m badMode, drip bool) error, rec func(mode string, err error) string) {
	for _, m := range badModes {
		for _, w := range writeModes {
			t.Run(name+"/"+m.name+"/"+w.name, func(t *testing.T) {
				t.Parallel()
				err := within(caseTimeout, func() error { return run(m, w.drip) })
				if msg := rec(m.name+"/"+w.name, err); msg != "" {
					t.Error(msg)
				}
			})
		}
	}
}

func clientExpect(cc clientCase) string {
	switch {
	case cc.status != 0:
		return fmt.Sprintf("Dial: *upgrade.HandshakeError, status %d", cc.status)
	case cc.dialErr != nil:
		return "Dial: " + errName(cc.dialErr)
	}
	return fmt.Sprintf("close %d, OnClose %s", cc.code, errName(cc.err))
}

// errName names a sentinel by its package variable, for the doc.
func errName(err error) string {
	for name, e := range sentinelNames {
		if e == err {
			return name
		}
	}
	return err.Error()
}

var sentinelNames = map[string]error{
	"engine.ErrUnmaskedFrame": engine.ErrUnmaskedFrame, "engine.ErrMaskedFrame": engine.ErrMaskedFrame,
	"engine.ErrUnexpectedRSV": engine.ErrUnexpectedRSV, "engine.ErrUnexpectedContinuation": engine.ErrUnexpectedContinuation,
	"engine.ErrExpectedContinuation": engine.ErrExpectedContinuation, "engine.ErrTextNotUTF8": engine.ErrTextNotUTF8,
	"engine.ErrFrameTooBig": engine.ErrFrameTooBig, "engine.ErrMessageTooBig": engine.ErrMessageTooBig,
	"engine.ErrTooManyFragments": engine.ErrTooManyFragments, "frame.ErrReservedOpcode": frame.ErrReservedOpcode,
	"frame.ErrFragmentedControl": frame.ErrFragmentedControl, "frame.ErrControlTooLong": frame.ErrControlTooLong,
	"frame.ErrLengthOverflow": frame.ErrLengthOverflow, "frame.ErrInvalidClosePayload": frame.ErrInvalidClosePayload,
	"frame.ErrInvalidCloseCode": frame.ErrInvalidCloseCode, "frame.ErrInvalidUTF8": frame.ErrInvalidUTF8,
	"upgrade.ErrBadAccept": upgrade.ErrBadAccept, "upgrade.ErrBadUpgrade": upgrade.ErrBadUpgrade,
	"upgrade.ErrBadConnection": upgrade.ErrBadConnection, "upgrade.ErrUnexpectedSubprotocol": upgrade.ErrUnexpectedSubprotocol,
	"upgrade.ErrUnexpectedExtension": upgrade.ErrUnexpectedExtension, "upgrade.ErrMalformedResponse": upgrade.ErrMalformedResponse,
	"upgrade.ErrResponseHeaderTooLarge": upgrade.ErrResponseHeaderTooLarge,
}

// startBadServer starts weir's server for one case.
func startBadServer(rec *recorder, cfg engine.Config) (*engine.Server, string, error) {
	srv, err := engine.NewServer(rec, &cfg, badUpgrader())
	if err != nil {
		return nil, "", err
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		return nil, "", err
	}
	return srv, srv.Addr().String(), nil
}

// waitNoConns checks that the server let go of every connection.
func waitNoConns(srv *engine.Server) error {
	deadline := time.Now().Add(badTimeout)
	for srv.NumConns() > 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d connection(s) still held %v later", srv.NumConns(), badTimeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

func runHandshakeCase(hc handshakeCase, m badMode, drip bool) error {
	rec := newRecorder()
	srv, addr, err := startBadServer(rec, m.config(engine.Config{}))
	if err != nil {
		return err
	}
	defer closeServer(srv)
	r, resp, err := rawHandshake(addr, hc.req.bytes(addr), drip)
	if err != nil {
		return fmt.Errorf("no HTTP answer: %w", err)
	}
	defer r.nc.Close()
	if resp.StatusCode != hc.status {
		return fmt.Errorf("status %d, want %d", resp.StatusCode, hc.status)
	}
	if f := hc.header; f[0] != "" && !strings.Contains(resp.Header.Get(f[0]), f[1]) {
		return fmt.Errorf("%s: %q, want it to contain %q", f[0], resp.Header.Get(f[0]), f[1])
	}
	// Weir hangs up after the answer.
	io.Copy(io.Discard, resp.Body)
	r.nc.SetReadDeadline(time.Now().Add(badTimeout))
	if _, err := io.Copy(io.Discard, r.br); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return errors.New("the TCP connection stayed open after the refusal")
		}
	}
	if err := waitNoConns(srv); err != nil {
		return err
	}
	select {
	case <-rec.open:
		return errors.New("OnOpen was called for a refused handshake")
	default:
	}
	return nil
}

func runFrameCase(fc frameCase, m badMode, drip bool) error {
	rec := newRecorder()
	srv, addr, err := startBadServer(rec, m.config(fc.cfg))
	if err != nil {
		return err
	}
	defer closeServer(srv)
	r, resp, err := rawHandshake(addr, stdReq().bytes(addr), false)
	if err != nil {
		return err
	}
	defer r.nc.Close()
	if resp.StatusCode != 101 {
		return fmt.Errorf("handshake status %d", resp.StatusCode)
	}
	r.drip = drip
	r.startFrames()
	for i, b := range fc.input {
		if i > 0 {
			time.Sleep(5 * time.Millisecond)
		}
		if r.write(b) != nil {
			break // weir may have hung up already
		}
	}
	return expectFailed(r, rec, srv.NumConns, fc.code, fc.err)
}

// expectFailed checks weir's answer to a violation: a close frame with code, the
// TCP connection closed, OnClose with code and err.
func expectFailed(r *rawConn, rec *recorder, conns func() int, code frame.StatusCode, want error) error {
	got, reason, err := r.expectClose(badTimeout)
	if err != nil {
		return err
	}
	if got != code {
		return fmt.Errorf("close frame %d %q, want %d", got, reason, code)
	}
	if err := r.expectEOF(badTimeout); err != nil {
		return err
	}
	r.nc.Close() // and hang up in turn, as a peer should
	select {
	case ev := <-rec.closed:
		if ev.code != code || !errors.Is(ev.err, want) {
			return fmt.Errorf("OnClose %d %v, want %d %v", ev.code, ev.err, code, want)
		}
		if engine.CloseStatus(ev.err) != code {
			return fmt.Errorf("CloseStatus(%v) = %d, want %d", ev.err, engine.CloseStatus(ev.err), code)
		}
	case <-time.After(badTimeout):
		return errors.New("no OnClose")
	}
	deadline := time.Now().Add(badTimeout)
	for conns() > 0 {
		if time.Now().After(deadline) {
			return errors.New("the connection is still held")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

func runClientCase(cc clientCase, m badMode, drip bool) error {
	seen := make(chan *rawConn, 1)
	srv, err := newRawServer(func(nc net.Conn, br *bufio.Reader, req *http.Request) {
		w := &rawConn{nc: nc, br: br, drip: drip}
		if w.write([]byte(cc.respond(req.Header.Get("Sec-WebSocket-Key")))) != nil {
			nc.Close()
			return
		}
		w.startFrames()
		for _, f := range cc.after {
			time.Sleep(5 * time.Millisecond)
			w.write(f)
		}
		seen <- w
	})
	if err != nil {
		return err
	}
	defer srv.close()
	rec := newRecorder()
	cfg := m.config(engine.Config{})
	cl, err := engine.NewClient(nil, &cfg)
	if err != nil {
		return err
	}
	defer closeClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), badTimeout)
	defer cancel()
	_, _, err = cl.Dial(ctx, srv.url(), &engine.DialOptions{Handler: rec, NoProxy: true, Subprotocols: []string{"chat"}})
	switch {
	case cc.status != 0:
		var he *upgrade.HandshakeError
		if !errors.As(err, &he) || he.Status != cc.status {
			return fmt.Errorf("Dial: %v, want a HandshakeError with status %d", err, cc.status)
		}
		return nil
	case cc.dialErr != nil:
		if !errors.Is(err, cc.dialErr) {
			return fmt.Errorf("Dial: %v, want %v", err, cc.dialErr)
		}
		return nil
	case err != nil:
		return fmt.Errorf("Dial: %w", err)
	}
	var w *rawConn
	select {
	case w = <-seen:
	case <-time.After(badTimeout):
		return errors.New("the bad server never got going")
	}
	defer w.nc.Close()
	got, _, err := w.expectClose(badTimeout)
	if err != nil {
		return err
	}
	if got != cc.code {
		return fmt.Errorf("weir's close frame %d, want %d", got, cc.code)
	}
	w.nc.Close() // the server hangs up after the close (§7.1.1)
	select {
	case ev := <-rec.closed:
		if ev.code != cc.code || !errors.Is(ev.err, cc.err) {
			return fmt.Errorf("OnClose %d %v, want %d %v", ev.code, ev.err, cc.code, cc.err)
		}
	case <-time.After(badTimeout):
		return errors.New("no OnClose")
	}
	return nil
}
