package opening

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/weir-ws/weir/internal/guard"
	"github.com/weir-ws/weir/upgrade"
)

const request = "GET /ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// fake is a connection that records what the machine does to it (W: int).
type fake struct {
	u                  *upgrade.Upgrader
	req                *upgrade.Request
	rsp, kept          []byte
	aborting, stopping bool
	noRoom, noLinger   bool
	answerErr          error
	pending            *upgrade.Handle
	waiting, finished  bool
	opened             bool
	answers            []string
	parsed             []string
	finishErr, refused error
	log                []string
}

func newFake(u *upgrade.Upgrader) *fake {
	if u == nil {
		u = &upgrade.Upgrader{}
	}
	return &fake{u: u, req: upgrade.NewRequest()}
}

func (f *fake) do(s string, a ...any)                    { f.log = append(f.log, fmt.Sprintf(s, a...)) }
func (f *fake) Kept(int) *[]byte                         { return &f.kept }
func (f *fake) Scratch(int) (*upgrade.Request, *[]byte)  { return f.req, &f.rsp }
func (f *fake) Upgrader() *upgrade.Upgrader              { return f.u }
func (f *fake) Remote() netip.AddrPort                   { return netip.MustParseAddrPort("192.0.2.1:1234") }
func (f *fake) Notifier() upgrade.Notifier               { return f }
func (f *fake) HandshakeDecided(*upgrade.Handle)         { f.do("decided") }
func (f *fake) Aborting() bool                           { return f.aborting }
func (f *fake) Stopping() bool                           { return f.stopping }
func (f *fake) Abort()                                   { f.do("abort") }
func (f *fake) AdmitClientIP(int, *upgrade.Request) bool { return !f.noRoom }
func (f *fake) Wait(_ int, h *upgrade.Handle)            { f.pending, f.waiting = h, true; f.do("wait") }
func (f *fake) Open(upgrade.Result)                      { f.do("open") }
func (f *fake) Opened(int)                               { f.opened = true; f.do("opened") }
func (f *fake) Parse(_ int, head []byte)                 { f.parsed = append(f.parsed, string(head)) }
func (f *fake) Finished(int) bool                        { return f.finished }
func (f *fake) Refused(err error)                        { f.refused = err; f.do("refused") }

func (f *fake) Waited(int) (*upgrade.Handle, bool) {
	if !f.waiting {
		return nil, false
	}
	h := f.pending
	f.pending, f.waiting = nil, false
	return h, true
}

// HookGuard: panics are recovered and logged nowhere.
func (f *fake) HookGuard() (guard.Policy, *slog.Logger) {
	return guard.Close, slog.New(slog.DiscardHandler)
}

// panicky is an Upgrader whose every hook panics.
func panicky() *upgrade.Upgrader {
	return &upgrade.Upgrader{
		CheckOrigin: func(*upgrade.Request) bool { panic("CheckOrigin") },
		Verify:      func(*upgrade.Request, *upgrade.Decision) { panic("Verify") },
		OnHandshakeError: func(netip.AddrPort, *http.Request, *upgrade.HandshakeError) {
			panic("OnHandshakeError")
		},
	}
}

func (f *fake) Answer(out []byte) error {
	f.answers = append(f.answers, string(out))
	f.do("answer")
	return f.answerErr
}

func (f *fake) Linger(int, error) bool {
	if f.noLinger {
		return false
	}
	f.do("linger")
	return true
}

func (f *fake) Finish(_ int, err error) { f.finished, f.finishErr = true, err; f.do("finish") }

func status(t *testing.T, answer string) string {
	t.Helper()
	line, _, _ := strings.Cut(answer, "\r\n")
	if len(line) < 12 {
		t.Fatalf("answer %q", answer)
	}
	return line[9:12]
}

// TestInput covers each way a request ends, in the order the contract gives.
func TestInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		set    func(*fake)
		input  string
		status string // "" for no answer
		log    string
	}{
		{"accepted", nil, request + "frames", "101", "open answer opened"},
		{"bad request", nil, "GET / HTTP/1.0\r\n\r\n", "400", "refused answer linger"},
		{"aborting", func(f *fake) { f.aborting = true }, request, "", "abort"},
		{"stopping", func(f *fake) { f.stopping = true }, request, "503", "refused answer linger"},
		{"per-IP cap", func(f *fake) { f.noRoom = true }, request, "503", "refused answer linger"},
		{"hook panicked", func(f *fake) { f.u = panicky() }, request, "500", "refused answer linger"},
		{"no linger", func(f *fake) { f.stopping, f.noLinger = true, true }, request, "503", "refused answer finish"},
		{"answer lost", func(f *fake) { f.answerErr = errors.New("reset") }, request, "101", "open answer finish"},
		{"refusal lost", func(f *fake) { f.stopping, f.answerErr = true, errors.New("reset") }, request, "503", "refused answer finish"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(nil)
			if tt.set != nil {
				tt.set(f)
			}
			Input(f, 0, []byte(tt.input))
			if got := strings.Join(f.log, " "); got != tt.log {
				t.Fatalf("did %q, want %q", got, tt.log)
			}
			switch {
			case tt.status == "" && len(f.answers) > 0:
				t.Fatalf("answered %q", f.answers[0])
			case tt.status != "" && status(t, f.answers[0]) != tt.status:
				t.Fatalf("answered %q, want %s", f.answers[0], tt.status)
			}
			if tt.status == "101" && f.answerErr == nil && strings.Join(f.parsed, "|") != "frames" {
				t.Fatalf("parsed %q after the request, want %q", f.parsed, "frames")
			}
			if f.kept != nil {
				t.Fatalf("kept %q after the handshake ended", f.kept)
			}
		})
	}
}

// TestInputSplit: a request cut at any point is kept and parsed whole with
// the next bytes, and the frames after it are handed on once.
func TestInputSplit(t *testing.T) {
	t.Parallel()
	in := request + "xy"
	for i := 1; i < len(in); i++ {
		f := newFake(nil)
		Input(f, 0, []byte(in[:i]))
		if i < len(request) {
			if len(f.log) != 0 || string(f.kept) != in[:i] {
				t.Fatalf("cut at %d: did %q, kept %q", i, f.log, f.kept)
			}
		}
		if f.opened { // the request was whole: the rest are frames, the reader's
			f.Parse(0, []byte(in[i:]))
		} else {
			Input(f, 0, []byte(in[i:]))
		}
		if !f.opened || strings.Join(f.parsed, "") != "xy" || f.kept != nil {
			t.Fatalf("cut at %d: opened %v, parsed %q, kept %q", i, f.opened, f.parsed, f.kept)
		}
	}
}

// deferred is an Upgrader whose verify hook defers every decision to h.
func deferred(h **upgrade.Handle) *upgrade.Upgrader {
	return &upgrade.Upgrader{Verify: func(r *upgrade.Request, d *upgrade.Decision) { *h = d.Defer() }}
}

// TestDeferred: a deferred decision keeps only what followed the request,
// bytes that come meanwhile within MaxEarly, and finishes as a synchronous
// handshake once decided.
func TestDeferred(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		decide   func(*upgrade.Handle)
		stopping bool
		status   string
		parsed   string
		done     bool
	}{
		{"accepted", func(h *upgrade.Handle) { h.Accept(upgrade.Acceptance{}) }, false, "101", "early+later", true},
		{"rejected", func(h *upgrade.Handle) { h.Reject(403, "no", nil) }, false, "403", "", true},
		{"stopping", func(h *upgrade.Handle) { h.Accept(upgrade.Acceptance{}) }, true, "503", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var h *upgrade.Handle
			f := newFake(deferred(&h))
			Input(f, 0, []byte(request+"early"))
			if !f.waiting || h == nil || string(f.kept) != "early" || len(f.answers) != 0 {
				t.Fatalf("waiting %v, kept %q, answers %q", f.waiting, f.kept, f.answers)
			}
			Early(f, 0, []byte("+later"))
			tt.decide(h)
			f.stopping = tt.stopping
			if done := Decided(f, 0); done != tt.done {
				t.Fatalf("Decided = %v, want %v", done, tt.done)
			}
			if len(f.answers) != 1 || status(t, f.answers[0]) != tt.status {
				t.Fatalf("answers %q, want one %s", f.answers, tt.status)
			}
			if got := strings.Join(f.parsed, "|"); got != tt.parsed {
				t.Fatalf("parsed %q, want %q", got, tt.parsed)
			}
			if Decided(f, 0) {
				t.Fatal("a second Decided answered again")
			}
		})
	}
}

// TestEarlyCap: more than MaxEarly bytes while waiting ends the connection.
func TestEarlyCap(t *testing.T) {
	t.Parallel()
	var h *upgrade.Handle
	f := newFake(deferred(&h))
	Input(f, 0, []byte(request))
	Early(f, 0, make([]byte, MaxEarly))
	if f.finished {
		t.Fatal("finished at MaxEarly bytes")
	}
	Early(f, 0, []byte{0})
	if !f.finished || !errors.Is(f.finishErr, ErrEarlyData) {
		t.Fatalf("finished %v with %v, want ErrEarlyData", f.finished, f.finishErr)
	}
}

// TestRefuseHookPanic: a panicking OnHandshakeError still gets its answer
// written (and the connection refused).
func TestRefuseHookPanic(t *testing.T) {
	t.Parallel()
	f := newFake(panicky())
	Refuse(f, 0, nil, ErrBusy)
	if len(f.answers) != 1 || status(t, f.answers[0]) != "503" || f.refused != ErrBusy {
		t.Fatalf("answers %q, refused %v", f.answers, f.refused)
	}
}
