package closing

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/weir-ws/weir/frame"
)

// fake is a connection that records what the machine does to it.
type fake struct {
	client     bool
	req, phase atomic.Uint32
	sent       bool // a close frame went out
	code       frame.StatusCode
	reason     string
	rd         Read
	failure    error
	log        []string
	closeCode  frame.StatusCode // of the close frame sent
	finCode    frame.StatusCode
	finErr     error
	goingCode  frame.StatusCode
}

func (f *fake) do(s string, a ...any)              { f.log = append(f.log, fmt.Sprintf(s, a...)) }
func (f *fake) Client() bool                       { return f.client }
func (f *fake) Request() *atomic.Uint32            { return &f.req }
func (f *fake) Phase() *atomic.Uint32              { return &f.phase }
func (f *fake) Post()                              { f.do("post") }
func (f *fake) Read(int) *Read                     { return &f.rd }
func (f *fake) Failure(int) error                  { return f.failure }
func (f *fake) ShutdownWrite()                     { f.do("shut") }
func (f *fake) Arm(int)                            { f.do("arm") }
func (f *fake) FinishClean(int)                    { f.do("clean") }
func (f *fake) Handshaking(_ int, b bool)          { f.do("handshaking %v", b) }
func (f *fake) Status() (frame.StatusCode, string) { return f.code, f.reason }
func (f *fake) GoingAway() (frame.StatusCode, string) {
	return frame.StatusGoingAway, "bye"
}

func (f *fake) SendClose(code frame.StatusCode, reason string) bool {
	if f.sent {
		return false
	}
	f.sent, f.closeCode = true, code
	f.phase.CompareAndSwap(Open, Closing)
	f.do("send %d", code)
	return true
}

func (f *fake) SetStatus(code frame.StatusCode, reason string) {
	if f.code == 0 {
		f.code, f.reason = code, reason
	}
}

func (f *fake) Failed(_ int, err error) { f.failure = err; f.do("failed") }
func (f *fake) Finish(_ int, code frame.StatusCode, reason string, err error) {
	f.rd.Finish()
	f.finCode, f.finErr = code, err
	f.do("finish %d", code)
}

var (
	errAbnormal = errors.New("abnormal")
	errTimeout  = errors.New("timeout")
	errSlow     = errors.New("slow")
	m           = Machine[*fake, int]{Abnormal: errAbnormal, CloseTimeout: errTimeout, Slow: errSlow}
)

func open(client bool) *fake {
	f := &fake{client: client}
	f.phase.Store(Open)
	return f
}

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code   frame.StatusCode
		reason string
		want   error
	}{
		{0, "", nil},
		{1000, "", nil},
		{1000, strings.Repeat("r", 123), nil},
		{1000, strings.Repeat("r", 124), frame.ErrCloseReasonTooLong},
		{0, "why", frame.ErrCloseReasonTooLong},
		{1005, "", ErrInvalidCode}, // §7.4.1: never on the wire
		{1006, "", ErrInvalidCode},
		{1015, "", ErrInvalidCode},
		{999, "", ErrInvalidCode},
		{1016, "", ErrInvalidCode}, // reserved for the RFC's later use
		{3000, "", nil},
		{4999, "", nil},
		{5000, "", ErrInvalidCode},
		{1000, "\xff", frame.ErrInvalidUTF8},
	} {
		if err := Check(tc.code, tc.reason); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("Check(%d, %q) = %v, want %v", tc.code, tc.reason, err, tc.want)
		}
	}
	for _, tc := range []struct {
		p    []byte
		code frame.StatusCode
		bad  bool
	}{
		{nil, 0, false},
		{[]byte{0x03, 0xe8, 'o', 'k'}, 1000, false},
		{[]byte{0x03}, 0, true},             // one byte: no code
		{[]byte{0x03, 0xed}, 0, true},       // 1005 in a payload
		{[]byte{0x03, 0xe8, 0xff}, 0, true}, // reason not UTF-8
	} {
		code, _, err := ParsePayload(tc.p)
		if (err != nil) != tc.bad || (!tc.bad && code != tc.code) {
			t.Errorf("ParsePayload(%x) = %d, %v", tc.p, code, err)
		}
	}
}

func TestFail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want frame.StatusCode
	}{
		{errors.New("plain"), frame.StatusProtocolError},
		{&frame.ProtocolError{Code: frame.StatusInvalidFramePayloadData}, 1007},
		{&frame.ProtocolError{Code: frame.StatusPolicyViolation}, 1008},
		{fmt.Errorf("wrapped: %w", &frame.ProtocolError{Code: frame.StatusMessageTooBig}), 1009},
	} {
		f := open(false)
		if m.Fail(f, 1, tc.err) {
			t.Fatal("Fail returned true")
		}
		if f.closeCode != tc.want || f.code != tc.want || f.phase.Load() != Closing || f.failure != tc.err {
			t.Errorf("%v: sent %d, status %d, phase %d, failure %v", tc.err, f.closeCode, f.code, f.phase.Load(), f.failure)
		}
		if got := strings.Join(f.log, ","); got != fmt.Sprintf("failed,send %d,shut,arm", tc.want) {
			t.Errorf("%v: did %s", tc.err, got)
		}
		// Failing again does nothing.
		f.log = nil
		m.Fail(f, 1, errors.New("again"))
		if len(f.log) != 0 || f.failure != tc.err {
			t.Errorf("a second Fail did %v", f.log)
		}
	}
	// Nor does failing a finished connection.
	f := open(false)
	m.OnEnd(f, 1, nil)
	f.log = nil
	if m.Fail(f, 1, errors.New("late")); len(f.log) != 0 || f.failure != nil || f.rd.Discarding() {
		t.Errorf("Fail after the end did %v", f.log)
	}
}

func TestPeerClose(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		client  bool
		payload []byte
		echo    frame.StatusCode // close code sent
		status  frame.StatusCode
		then    string
	}{
		{"server", false, []byte{0x03, 0xe8}, 1000, 1000, "clean"},
		{"client waits", true, []byte{0x03, 0xe8}, 1000, 1000, "arm"},
		{"no status", false, nil, 0, frame.StatusNoStatusRcvd, "clean"},
		{"1005 on the wire", false, []byte{0x03, 0xed}, 1002, 1002, "arm"},
		{"one byte", false, []byte{0x03}, 1002, 1002, "arm"},
		{"bad reason", false, []byte{0x03, 0xe8, 0xc0}, 1007, 1007, "arm"},
	} {
		f := open(tc.client)
		m.OnPeerClose(f, 1, tc.payload)
		if f.closeCode != tc.echo || f.code != tc.status || f.phase.Load() != Closing {
			t.Errorf("%s: sent %d, status %d, phase %d", tc.name, f.closeCode, f.code, f.phase.Load())
		}
		if last := f.log[len(f.log)-1]; last != tc.then {
			t.Errorf("%s: ended with %s (%v)", tc.name, last, f.log)
		}
	}
	// After our close: the peer's answers it, peerFirst stays false.
	f := open(false)
	m.Close(f, 1000, "")
	m.OnPeerClose(f, 1, []byte{0x03, 0xe8})
	if !f.rd.Received() || f.rd.PeerFirst() {
		t.Fatalf("received %v peerFirst %v", f.rd.Received(), f.rd.PeerFirst())
	}
	// Before it: the peer began.
	f = open(false)
	m.OnPeerClose(f, 1, []byte{0x03, 0xe8})
	if !f.rd.Received() || !f.rd.PeerFirst() {
		t.Fatalf("received %v peerFirst %v", f.rd.Received(), f.rd.PeerFirst())
	}
}

func TestRequests(t *testing.T) {
	t.Parallel()
	// Close: sent once, Graceful, then the wait.
	f := open(false)
	if !m.Close(f, 1000, "bye") || m.Close(f, 1001, "") || f.req.Load() != Graceful || f.phase.Load() != Closing {
		t.Fatalf("Close: %v req %d", f.log, f.req.Load())
	}
	m.OnRequest(f, 1)
	if got := strings.Join(f.log, ","); got != "send 1000,post,arm" {
		t.Fatalf("Close then OnRequest did %s", got)
	}
	// A server that has the peer's close finishes at once.
	f = open(false)
	f.rd.receive(false)
	m.Close(f, 1000, "")
	m.OnRequest(f, 1)
	if f.log[len(f.log)-1] != "clean" {
		t.Fatalf("did %v", f.log)
	}
	// CloseNow: the status is 1005 without a code, finish with it.
	f = open(false)
	m.CloseNow(f, 0, "")
	m.OnRequest(f, 1)
	if f.finCode != frame.StatusNoStatusRcvd || f.finErr != nil {
		t.Fatalf("CloseNow finished %d %v", f.finCode, f.finErr)
	}
	// Abort and Slow.
	f = open(false)
	m.Request(f, Abort)
	m.OnRequest(f, 1)
	if f.sent || f.finCode != frame.StatusAbnormalClosure || f.finErr != ErrAborted {
		t.Fatalf("Abort: sent %v, finished %d %v", f.sent, f.finCode, f.finErr)
	}
	f = open(false)
	m.Request(f, Slow)
	m.OnRequest(f, 1)
	if f.closeCode != 1008 || f.reason != ReasonSlow || f.finCode != 1008 || f.finErr != errSlow {
		t.Fatalf("Slow: sent %d %q, finished %d %v", f.closeCode, f.reason, f.finCode, f.finErr)
	}
	// Busy: during the handshake a 503; once open, going-away.
	f = &fake{}
	f.req.Store(Busy)
	m.OnRequest(f, 1)
	if strings.Join(f.log, ",") != "handshaking true" {
		t.Fatalf("Busy while connecting did %v", f.log)
	}
	f = open(false)
	f.req.Store(Busy)
	m.OnRequest(f, 1)
	if f.closeCode != frame.StatusGoingAway || f.req.Load() != Graceful || f.log[len(f.log)-1] != "arm" {
		t.Fatalf("Busy once open: sent %d, req %d, %v", f.closeCode, f.req.Load(), f.log)
	}
}

func TestEndAndDeadline(t *testing.T) {
	t.Parallel()
	f := open(false)
	m.OnEnd(f, 1, nil)
	if f.finCode != frame.StatusAbnormalClosure || f.finErr != errAbnormal {
		t.Fatalf("EOF: %d %v", f.finCode, f.finErr)
	}
	io := errors.New("reset")
	f = open(false)
	m.OnEnd(f, 1, io)
	if f.finErr != io {
		t.Fatalf("I/O error: %v", f.finErr)
	}
	f = open(false)
	f.rd.receive(false)
	m.OnEnd(f, 1, io)
	if f.rd.Finished() || f.log[0] != "clean" {
		t.Fatalf("after the peer's close: %v", f.log)
	}
	// The deadline: the status, or 1006; the failure, or CloseTimeout.
	f = open(false)
	m.OnDeadline(f, 1)
	if f.finCode != frame.StatusAbnormalClosure || f.finErr != errTimeout {
		t.Fatalf("deadline: %d %v", f.finCode, f.finErr)
	}
	f = open(false)
	bad := &frame.ProtocolError{Code: frame.StatusInvalidFramePayloadData}
	m.Fail(f, 1, bad)
	m.OnDeadline(f, 1)
	if f.finCode != 1007 || f.finErr != bad {
		t.Fatalf("deadline after a failure: %d %v", f.finCode, f.finErr)
	}
}
