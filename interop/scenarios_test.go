package interop

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// The rows of the matrix. Each scenario runs on one fresh connection, for each
// pair and each variant; run drives weir's side and checks both sides (weir's
// callbacks and the peer's report). Add a row by adding an entry.

type scenario struct {
	group, name string
	about       string        // what the row checks, for the doc
	config      engine.Config // weir's engine configuration for this row
	path        string        // the request path; default "/echo"
	refused     bool          // the handshake is meant to fail
	version     int           // the client's Sec-WebSocket-Version (0: 13)
	subprotocol bool          // the client offers offeredProtocols
	// na returns why the row cannot run on this pair at all ("" when it can).
	na  func(p *peerSpec, r role) string
	run func(x *exchange) error
}

func (s *scenario) key() string { return s.group + "/" + s.name }

func (s *scenario) pathOr() string {
	if s.path == "" {
		return "/echo"
	}
	return s.path
}

func (s *scenario) protocols() []string {
	if s.subprotocol {
		return offeredProtocols
	}
	return nil
}

// Close codes and reasons of the close rows; the reasons carry multi-byte UTF-8.
const (
	reasonNormal = "normal bye"
	reasonAway   = "going away"
	appCode      = 4321
	reasonApp    = "app-défined 😀"
)

var scenarios = []*scenario{
	{group: "echo", name: "text", about: "text echo of 0, 125, 126, 65535, 65536 B, 1 MiB, 8 MiB (1- to 4-byte characters)",
		run: func(x *exchange) error { return echoSizesRun(x, frame.OpText, textPayload) }},
	{group: "echo", name: "binary", about: "binary echo of 0, 125, 126, 65535, 65536 B, 1 MiB, 8 MiB",
		run: func(x *exchange) error { return echoSizesRun(x, frame.OpBinary, binaryPayload) }},
	{group: "utf-8", name: "multi-byte", about: "2-, 3- and 4-byte characters, encoding-length edges up to U+10FFFF, NUL, a character across 16 KiB",
		run: func(x *exchange) error {
			for _, s := range utf8Samples {
				if err := x.echo(frame.OpText, []byte(s)); err != nil {
					return fmt.Errorf("%q: %w", clip(s), err)
				}
			}
			return x.closeNormal()
		}},
	{group: "fragments", name: "weir sends frames", about: "weir's WriteFrame: a text message cut inside a 4-byte character, empty first and last fragments, a ping between fragments, 1-byte fragments; the peer echoes each message whole",
		run: fragmentsToPeer},
	{group: "fragments", name: "weir WriteFragmentSize", about: "engine.Config.WriteFragmentSize = 16 KiB: a 1 MiB binary and a 100 KiB text message go out in 16 KiB frames",
		config: engine.Config{WriteFragmentSize: 16 << 10},
		run: func(x *exchange) error {
			for _, m := range []message{{frame.OpBinary, binaryPayload(1 << 20)}, {frame.OpText, textPayload(100 << 10)}} {
				before, sent := x.c.Stats().FramesOut, x.c.Stats().BytesOut
				if err := x.echo(m.op, m.data); err != nil {
					return err
				}
				// Compressed messages are fragmented after compression: count frames
				// against the bytes that went out.
				size := len(m.data)
				if _, ok := x.c.Compression(); ok {
					size = int(x.c.Stats().BytesOut - sent)
				}
				if n := x.c.Stats().FramesOut - before; n < uint64(size/(16<<10)) {
					return fmt.Errorf("weir sent %d frames for %d bytes, want one per 16 KiB", n, len(m.data))
				}
			}
			return x.closeNormal()
		}},
	{group: "fragments", name: "peer sends frames", about: "the peer echoes in fragments (@@frag 4096, or its own frame size); weir reassembles a 64 KiB binary and a 40 KiB text message",
		run: fragmentsFromPeer},
	{group: "ping", name: "weir pings", about: "weir pings with an empty, a short and a 125-byte payload; the peer's pongs carry them back in order",
		run: func(x *exchange) error {
			for _, p := range [][]byte{nil, []byte("weir-ping"), binaryPayload(125)} {
				if err := x.c.Ping(p); err != nil {
					return x.closedOr(err)
				}
				select {
				case got := <-x.rec.pongs:
					if string(got) != string(p) {
						return fmt.Errorf("pong %q, want %q", clip(string(got)), clip(string(p)))
					}
				case <-time.After(stepTimeout):
					return fmt.Errorf("no pong for a %d-byte ping", len(p))
				}
			}
			return x.closeNormal()
		}},
	{group: "ping", name: "peer pings", about: "the peer pings (@@ping); weir's OnPing sees the payload and its automatic pong reaches the peer",
		run: func(x *exchange) error {
			const payload = "peer-ping é"
			if _, err := x.command("@@ping "+payload, "@@pong "+payload); err != nil {
				return err
			}
			select {
			case got := <-x.rec.pings:
				if string(got) != payload {
					return fmt.Errorf("OnPing %q, want %q", got, payload)
				}
			default:
				return errors.New("the peer saw a pong but weir's OnPing saw no ping")
			}
			return x.closeNormal()
		}},
	{group: "close", name: "weir 1000 + reason", about: "weir closes with 1000 and a reason", run: weirCloses(1000, reasonNormal)},
	{group: "close", name: "weir 1001", about: "weir closes with 1001 (going away)", run: weirCloses(1001, reasonAway)},
	{group: "close", name: "weir 4321", about: "weir closes with an application code and a multi-byte reason", run: weirCloses(appCode, reasonApp)},
	{group: "close", name: "peer 1000 + reason", about: "the peer closes with 1000 and a reason", run: peerCloses(1000, reasonNormal)},
	{group: "close", name: "peer 1001", about: "the peer closes with 1001", run: peerCloses(1001, reasonAway)},
	{group: "close", name: "peer 4321", about: "the peer closes with an application code and a multi-byte reason", run: peerCloses(appCode, reasonApp)},
	{group: "handshake", name: "subprotocol", about: "the client offers weir.v1, weir.v2; the server supports weir.v2, weir.v3: both sides settle on weir.v2",
		subprotocol: true,
		run: func(x *exchange) error {
			if got := x.c.Subprotocol(); got != "weir.v2" {
				return fmt.Errorf("weir: Subprotocol() = %q, want weir.v2", got)
			}
			info, err := x.info()
			if err != nil {
				return err
			}
			if info.Subprotocol != "weir.v2" {
				return fmt.Errorf("peer: subprotocol %q, want weir.v2", info.Subprotocol)
			}
			return x.closeNormal()
		}},
	{group: "handshake", name: "rejected 403", about: "the server refuses with 403 and a reason (weir: upgrade.Decision.Reject); the client sees the status",
		path: "/reject", refused: true, run: rejected},
	{group: "handshake", name: "version 8", about: "a Sec-WebSocket-Version: 8 client (ws protocolVersion, WebSocket-Node webSocketVersion; weir DialOptions.Version)",
		version: 8,
		na: func(p *peerSpec, r role) string {
			if r == weirServer && !p.v8Client {
				return "the peer has no option to dial version 8"
			}
			return ""
		},
		run: func(x *exchange) error {
			if v := x.c.Version(); v != 8 {
				return fmt.Errorf("weir: Version() = %d, want 8", v)
			}
			if err := x.echo(frame.OpText, []byte("hybi-08 ✓")); err != nil {
				return err
			}
			if err := x.echo(frame.OpBinary, binaryPayload(70000)); err != nil {
				return err
			}
			info, err := x.info()
			if err != nil {
				return err
			}
			if info.Version != 8 {
				return fmt.Errorf("peer: version %d, want 8", info.Version)
			}
			return x.closeNormal()
		}},
}

func echoSizesRun(x *exchange, op frame.Opcode, gen func(int) []byte) error {
	for _, n := range echoSizes {
		if err := x.echo(op, gen(n)); err != nil {
			return fmt.Errorf("%d bytes: %w", n, err)
		}
	}
	return x.closeNormal()
}

// fragmentsToPeer sends hand-cut fragmented messages with WriteFrame.
func fragmentsToPeer(x *exchange) error {
	c := x.c
	text := []byte("split 😀 here") // the emoji's 4 bytes are 6..9
	type step func() error
	frames := func(op frame.Opcode, parts ...[]byte) error {
		for i, p := range parts {
			fop := frame.OpContinuation
			if i == 0 {
				fop = op
			}
			if err := c.WriteFrame(i == len(parts)-1, fop, 0, p); err != nil {
				return x.closedOr(err)
			}
		}
		return nil
	}
	cases := []struct {
		name string
		op   frame.Opcode
		want []byte
		send step
	}{
		{"text cut inside a 4-byte character", frame.OpText, text, func() error {
			return frames(frame.OpText, text[:8], text[8:])
		}},
		{"empty first and last fragments", frame.OpBinary, []byte("middle"), func() error {
			return frames(frame.OpBinary, nil, []byte("middle"), nil)
		}},
		{"a ping between fragments", frame.OpText, []byte("before-after"), func() error {
			if err := c.WriteFrame(false, frame.OpText, 0, []byte("before-")); err != nil {
				return x.closedOr(err)
			}
			if err := c.Ping([]byte("between")); err != nil {
				return x.closedOr(err)
			}
			if err := c.WriteFrame(true, frame.OpContinuation, 0, []byte("after")); err != nil {
				return x.closedOr(err)
			}
			select {
			case p := <-x.rec.pongs:
				if string(p) != "between" {
					return fmt.Errorf("pong %q, want \"between\"", p)
				}
			case <-time.After(stepTimeout):
				return errors.New("no pong for the ping between fragments")
			}
			return nil
		}},
		{"1-byte fragments", frame.OpBinary, binaryPayload(16), func() error {
			p := binaryPayload(16)
			parts := make([][]byte, len(p))
			for i := range p {
				parts[i] = p[i : i+1]
			}
			return frames(frame.OpBinary, parts...)
		}},
	}
	for _, tc := range cases {
		if err := tc.send(); err != nil {
			return fmt.Errorf("%s: %w", tc.name, err)
		}
		if err := x.expect(tc.op, tc.want); err != nil {
			return fmt.Errorf("%s: %w", tc.name, err)
		}
	}
	return x.closeNormal()
}

// fragmentsFromPeer asks the peer to echo in fragments and checks that more than
// one frame arrived per message.
func fragmentsFromPeer(x *exchange) error {
	if _, err := x.command("@@frag 4096", "@@ok frag"); err != nil {
		return err
	}
	for _, m := range []message{{frame.OpBinary, binaryPayload(64 << 10)}, {frame.OpText, textPayload(40 << 10)}} {
		before := x.c.Stats().FramesIn
		if err := x.echo(m.op, m.data); err != nil {
			return err
		}
		n := x.c.Stats().FramesIn - before
		if n < 2 {
			return fmt.Errorf("%d-byte %v came back in %d frame(s): the peer did not fragment", len(m.data), m.op, n)
		}
		x.note("%d-byte %v in %d frames", len(m.data), m.op, n)
	}
	return x.closeNormal()
}

// weirCloses: weir closes with code and reason; the peer must report exactly them,
// and weir's OnClose the peer's answer, cleanly.
func weirCloses(code int, reason string) func(x *exchange) error {
	return func(x *exchange) error {
		if err := x.c.Close(frame.StatusCode(code), reason); err != nil {
			return err
		}
		ev, err := x.waitClose()
		if err != nil {
			return err
		}
		r, err := x.report()
		if err != nil {
			return err
		}
		if r.Close == nil || r.Close.Code != code || r.Close.Reason != reason {
			return &errCloseSeen{side: "peer", got: r.Close, code: code, reason: reason}
		}
		if r.Error != "" {
			return fmt.Errorf("the peer reported an error: %s", r.Error)
		}
		wantCode, wantReason := x.peer.closeReply.expect(code, reason)
		if ev.err != nil || int(ev.code) != wantCode || ev.reason != wantReason {
			return fmt.Errorf("weir: OnClose %d %q err %v, want the peer's answer %d %q and no error", ev.code, ev.reason, ev.err, wantCode, wantReason)
		}
		return nil
	}
}

// peerCloses: the peer closes with code and reason (@@close); weir's OnClose must
// report exactly them, and the peer weir's echo of the code.
func peerCloses(code int, reason string) func(x *exchange) error {
	return func(x *exchange) error {
		if err := x.send(frame.OpText, []byte(fmt.Sprintf("@@close %d %s", code, reason))); err != nil {
			return err
		}
		var ev closeEvent
		select {
		case ev = <-x.rec.closed:
			x.rec.closed <- ev
		case m := <-x.rec.msgs: // the agent could not close so, and says why
			if what, ok := strings.CutPrefix(string(m.data), "@@unsupported "); ok {
				return &errUnsupported{what}
			}
			return fmt.Errorf("agent answered %q to @@close", clip(string(m.data)))
		case <-time.After(stepTimeout):
			return fmt.Errorf("no OnClose within %v", stepTimeout)
		}
		if ev.err != nil || int(ev.code) != code || ev.reason != reason {
			return fmt.Errorf("weir: OnClose %d %q err %v, want %d %q and no error", ev.code, ev.reason, ev.err, code, reason)
		}
		r, err := x.report()
		if err != nil {
			return err
		}
		// weir answers with the code and no reason (RFC 6455 §5.5.1).
		if r.Close == nil || r.Close.Code != code {
			return &errCloseSeen{side: "peer", got: r.Close, code: code, reason: ""}
		}
		if r.Error != "" {
			return fmt.Errorf("the peer reported an error: %s", r.Error)
		}
		return nil
	}
}

// errCloseSeen: a side reported another close code or reason than was sent.
type errCloseSeen struct {
	side   string
	got    *closeInfo
	code   int
	reason string
}

func (e *errCloseSeen) Error() string {
	if e.got == nil {
		return fmt.Sprintf("%s reported no close frame, want %d %q", e.side, e.code, e.reason)
	}
	return fmt.Sprintf("%s reported close %d %q, want %d %q", e.side, e.got.Code, e.got.Reason, e.code, e.reason)
}

func rejected(x *exchange) error {
	if x.role == weirClient {
		var he *upgrade.HandshakeError
		if !errors.As(x.dialErr, &he) {
			return fmt.Errorf("weir: Dial error %v, want a *upgrade.HandshakeError", x.dialErr)
		}
		if he.Status != 403 || he.Reason != peerRejectReason {
			return fmt.Errorf("weir: HandshakeError status %d reason %q, want 403 %q", he.Status, he.Reason, peerRejectReason)
		}
		return nil
	}
	if x.c != nil {
		return errors.New("the connection opened")
	}
	r, err := x.report()
	if err != nil {
		return err
	}
	if r.Status != 403 {
		return &errRefused{r.Status, r.Error}
	}
	switch r.StatusReason {
	case weirRejectReason:
		x.note("the peer read the reason %q", r.StatusReason)
	case "", "Forbidden":
		x.note("the peer gives the status only")
	default:
		return fmt.Errorf("peer: reject reason %q, want %q", r.StatusReason, weirRejectReason)
	}
	return nil
}

type agentInfo struct {
	Lib         string `json:"lib"`
	Subprotocol string `json:"subprotocol"`
	Version     int    `json:"version"`
}

// info asks the agent what it negotiated.
func (x *exchange) info() (agentInfo, error) {
	s, err := x.command("@@info", "@@info ")
	if err != nil {
		return agentInfo{}, err
	}
	var info agentInfo
	if err := json.Unmarshal([]byte(strings.TrimPrefix(s, "@@info ")), &info); err != nil {
		return info, fmt.Errorf("@@info: %w", err)
	}
	return info, nil
}
