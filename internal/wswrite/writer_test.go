package wswrite

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/outq"
)

// sink is a socket that takes up to room bytes, then would block.
type sink struct {
	lim     Limits
	total   atomic.Int64
	client  bool
	room    int
	wire    []byte // what the socket took
	retries int
	queued  int
	failErr error
	shared  *Limits // when set, the Limits of many sinks (Env)
}

func newSink(room int) *sink {
	s := &sink{room: room}
	s.lim = Limits{MaxBuffer: 1 << 20, MaxTotal: -1, DrainLowWater: 0, HighWater: 1 << 20, Total: &s.total}
	return s
}

func (s *sink) Write2(hdr FrameBuf, hn int, p []byte) (int, error) {
	if s.failErr != nil {
		return 0, s.failErr
	}
	n := min(hn+len(p), s.room)
	s.room -= n
	h := min(n, hn)
	s.wire = append(append(s.wire, hdr[:h]...), p[:n-h]...)
	return n, nil
}
func (s *sink) Failed(err error) error { return err }
func (s *sink) Queued()                { s.queued++ }
func (s *sink) Retry()                 { s.retries++ }
func (s *sink) Inflight() int          { return 0 }
func (s *sink) FrameOut(frame.Header)  {}
func (s *sink) Committed() bool        { return false }
func (s *sink) Env() Env {
	if s.shared != nil {
		return Env{Limits: s.shared, Client: s.client}
	}
	return Env{Limits: &s.lim, Client: s.client}
}

// messages parses the wire into payloads (unmasking), failing on anything but
// whole frames.
func messages(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	for len(b) > 0 {
		h, n, err := frame.ParseHeader(b)
		if err != nil || len(b) < n+int(h.Length) {
			t.Fatalf("bad frame on the wire: %+v, %v", h, err)
		}
		p := append([]byte(nil), b[n:n+int(h.Length)]...)
		if h.Masked {
			frame.Mask(h.Mask, 0, p)
		}
		out = append(out, h.Opcode.String()+":"+string(p))
		b = b[n+int(h.Length):]
	}
	return out
}

func TestMessageStraightAndQueued(t *testing.T) {
	t.Parallel()
	for _, room := range []int{1 << 20, 0, 1, 3, 10} {
		s := newSink(room)
		var w Writer
		for _, m := range []string{"hello", "", "world"} {
			if err := w.Message(s, frame.OpText, []byte(m), true); err != nil {
				t.Fatal(err)
			}
		}
		if room == 1<<20 && (w.Len() != 0 || w.Queued()) {
			t.Fatalf("room %d: queued %d bytes with a socket that takes all", room, w.Len())
		}
		s.room = 1 << 20
		f := w.Flush(s)
		if !f.Empty || w.Queued() || w.Len() != 0 || s.total.Load() != 0 {
			t.Fatalf("room %d: after flush: %+v, len %d, total %d", room, f, w.Len(), s.total.Load())
		}
		got := messages(t, s.wire)
		if want := []string{"text:hello", "text:", "text:world"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Fatalf("room %d: wire %q", room, got)
		}
		if w.FramesOut() != 3 {
			t.Fatalf("frames %d", w.FramesOut())
		}
	}
}

func TestAdmitPolicies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		policy Policy
		want   error
	}{{PolicyRefuse, ErrFull}, {PolicyDrop, ErrDropped}, {PolicyClose, ErrSlowConsumer}} {
		s := newSink(0)
		s.lim.MaxBuffer, s.lim.Policy = 100, tc.policy
		var w Writer
		if err := w.Message(s, frame.OpBinary, make([]byte, 200), true); err != nil {
			t.Fatalf("the first write to an empty queue always goes ahead: %v", err)
		}
		if err := w.Message(s, frame.OpBinary, []byte("x"), true); err != tc.want {
			t.Fatalf("policy %d: %v, want %v", tc.policy, err, tc.want)
		}
		if err := w.Control(s, frame.OpPing, []byte("p")); err != nil {
			t.Fatalf("a control frame is never refused: %v", err)
		}
	}
	// The budget judges the memory a write would add.
	s := newSink(0)
	s.lim.MaxTotal = 4096 + 600
	var w Writer
	w.Message(s, frame.OpBinary, make([]byte, 100), true) // queues 512 bytes of buffer, charged a page
	if err := w.Message(s, frame.OpBinary, make([]byte, 100), true); err != nil {
		t.Fatalf("a write that fits the buffer adds nothing: %v", err)
	}
	if err := w.Message(s, frame.OpBinary, make([]byte, 400), true); err != ErrFull {
		t.Fatalf("a write that grows past the budget: %v", err)
	}
}

// TestBudgetNeverPassed: writers on many connections at once, each socket
// taking a little and then nothing (peers that stop reading), never take the
// shared total past MaxTotal, not even for a moment and not with a write that
// finds its queue empty; and once they are done the total is exactly what the
// queues hold (no reservation left behind).
func TestBudgetNeverPassed(t *testing.T) {
	t.Parallel()
	var total atomic.Int64
	lim := &Limits{MaxBuffer: 1 << 20, MaxTotal: 16 << 10, HighWater: 1 << 20, Total: &total}
	const conns = 64
	writers := make([]*Writer, conns)
	var peak atomic.Int64
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			if v := total.Load(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	var wg sync.WaitGroup
	var refused, cut atomic.Int64
	for i := range writers {
		writers[i] = new(Writer)
		s := newSink(100 + 37*i) // takes a little, then would block
		s.shared = lim
		wg.Add(1)
		go func(w *Writer) {
			defer wg.Done()
			for j := range 200 {
				err := w.Message(s, frame.OpBinary, make([]byte, 200+13*j%900), false)
				switch {
				case errors.Is(err, ErrFull):
					refused.Add(1)
				case errors.Is(err, ErrBudgetCut):
					cut.Add(1)
					return
				case err != nil:
					t.Errorf("write: %v", err)
					return
				}
			}
		}(writers[i])
	}
	wg.Wait()
	close(stop)
	<-watched
	if p := peak.Load(); p > lim.MaxTotal {
		t.Errorf("the total reached %d, over the budget of %d", p, lim.MaxTotal)
	}
	var held int64
	for _, w := range writers {
		held += pages(int64(w.out.Cap()))
	}
	if got := total.Load(); got != held {
		t.Errorf("total %d after the writes, the queues hold %d", got, held)
	}
	if refused.Load() == 0 {
		t.Errorf("no write was refused: the budget was never reached")
	}
	t.Logf("peak %d of %d, %d writes refused, %d connections cut", peak.Load(), lim.MaxTotal, refused.Load(), cut.Load())
}

// TestBudgetControlFramesSettle: writes that are never admitted (control
// frames, raw bytes) count what they queue as it grows and give it back when
// it goes, holding no reservation open (a close frame queued on a full socket
// once left its 512 bytes counted for good).
func TestBudgetControlFramesSettle(t *testing.T) {
	t.Parallel()
	s := newSink(0)
	s.lim.MaxTotal = 1 << 20
	var w Writer
	if err := w.Control(s, frame.OpPing, []byte("p")); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRaw(s, []byte("raw bytes")); err != nil {
		t.Fatal(err)
	}
	if got, holds := s.total.Load(), pages(int64(w.out.Cap())); got != holds {
		t.Errorf("total %d with %d queued", got, holds)
	}
	w.Release(&s.lim)
	if got := s.total.Load(); got != 0 {
		t.Errorf("total %d after the queue was released", got)
	}
}

// TestFragmentedHoldsMessages: whole messages wait behind a fragmented one,
// control frames go between its fragments, completions fire as bytes go out.
func TestFragmentedHoldsMessages(t *testing.T) {
	t.Parallel()
	s := newSink(1 << 20)
	var w Writer
	step := func(fin bool, op frame.Opcode, p string) []outq.Done {
		d, err := w.Frame(s, fin, op, 0, []byte(p))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	step(false, frame.OpText, "a")
	if _, err := w.Frame(s, false, frame.OpBinary, 0, nil); err != ErrFragmentOrder {
		t.Fatalf("a second fragmented message: %v", err)
	}
	w.Message(s, frame.OpText, []byte("held"), true)
	done := false
	if !w.AddDone(s, func(error) { done = true }) {
		t.Fatal("a held message completed at once")
	}
	w.Control(s, frame.OpPing, []byte("between"))
	if w.Pending(s) == 0 {
		t.Fatal("held bytes are not pending")
	}
	dones := step(true, frame.OpContinuation, "b")
	for _, d := range dones {
		d.Fn(nil)
	}
	if !done {
		t.Fatal("the held message's completion did not come with the last fragment")
	}
	got := messages(t, s.wire)
	want := []string{"text:a", "ping:between", "continuation:b", "text:held"}
	if len(got) != len(want) {
		t.Fatalf("wire %q", got)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("wire %q, want %q", got, want)
		}
	}
	if _, err := w.Frame(s, true, frame.OpContinuation, 0, nil); err != ErrFragmentOrder {
		t.Fatalf("a continuation with nothing in progress: %v", err)
	}
}

func TestCloseDropsHeldAndStopsWrites(t *testing.T) {
	t.Parallel()
	s := newSink(1 << 20)
	var w Writer
	w.Frame(s, false, frame.OpText, 0, []byte("a"))
	w.Message(s, frame.OpText, []byte("held"), true)
	w.AddDone(s, func(error) {})
	sent, dropped := w.Close(s, []byte{0x03, 0xe8})
	if !sent || len(dropped) != 1 {
		t.Fatalf("Close: sent %v, dropped %d", sent, len(dropped))
	}
	if sent, _ := w.Close(s, nil); sent {
		t.Fatal("a second close was sent")
	}
	if w.Writable(frame.OpText) != ErrClosed || w.Writable(frame.OpClose) != nil {
		t.Fatal("after our close only the close may be written")
	}
	w.MarkClosed()
	if w.Writable(frame.OpClose) != ErrClosed {
		t.Fatal("nothing after the socket closed")
	}
	if got := messages(t, s.wire); got[len(got)-1] != "close:\x03\xe8" {
		t.Fatalf("wire %q", got)
	}
	if s.total.Load() != 0 {
		t.Fatalf("dropped held bytes still counted: %d", s.total.Load())
	}
}

func TestAutoPongBatched(t *testing.T) {
	t.Parallel()
	s := newSink(1 << 20)
	var w Writer
	w.AutoPong(s, []byte("1"))
	w.AutoPong(s, []byte("2"))
	if s.retries != 2 || len(s.wire) != 0 || w.PongLen() == 0 {
		t.Fatalf("pongs went out before the end of the turn (retries %d)", s.retries)
	}
	w.Message(s, frame.OpText, []byte("m"), true) // owed pongs go first
	got := messages(t, s.wire)
	if len(got) != 3 || got[0] != "pong:1" || got[1] != "pong:2" || got[2] != "text:m" {
		t.Fatalf("wire %q", got)
	}
}

func TestClientMasksCopy(t *testing.T) {
	t.Parallel()
	s := newSink(1 << 20)
	s.client = true
	var w Writer
	p := []byte("secret")
	w.SetMaskKey(func() [4]byte { return [4]byte{1, 2, 3, 4} })
	w.Message(s, frame.OpBinary, p, true)
	w.SetMaskKey(func() [4]byte { return [4]byte{9, 9, 9, 9} })
	w.Control(s, frame.OpPing, p)
	if string(p) != "secret" {
		t.Fatal("the caller's slice was masked in place")
	}
	b := s.wire
	h, n, _ := frame.ParseHeader(b)
	if !h.Masked || h.Mask != [4]byte{1, 2, 3, 4} {
		t.Fatalf("first frame %+v", h)
	}
	h2, _, _ := frame.ParseHeader(b[n+int(h.Length):])
	if h2.Mask != [4]byte{9, 9, 9, 9} {
		t.Fatal("the mask key hook was not used")
	}
	if got := messages(t, b); got[0] != "binary:secret" || got[1] != "ping:secret" {
		t.Fatalf("wire %q", got)
	}
}

func TestWriteFailure(t *testing.T) {
	t.Parallel()
	s := newSink(1 << 20)
	s.failErr = errors.New("broken pipe")
	var w Writer
	if err := w.Message(s, frame.OpText, []byte("x"), true); err != s.failErr || !w.WriteErr() {
		t.Fatalf("err %v, WriteErr %v", err, w.WriteErr())
	}
}

// TestStraightWriteAllocs: a message the socket takes whole allocates
// nothing, nor does a control frame.
func TestStraightWriteAllocs(t *testing.T) {
	s := newSink(0)
	var w Writer
	p := make([]byte, 100)
	n := testing.AllocsPerRun(100, func() {
		s.room, s.wire = 1<<20, s.wire[:0]
		w.Message(s, frame.OpBinary, p, true)
		w.Control(s, frame.OpPong, p[:10])
	})
	if n != 0 {
		t.Fatalf("%v allocs per write", n)
	}
}

func BenchmarkMessageStraight(b *testing.B) {
	s := newSink(0)
	s.wire = make([]byte, 0, 4096)
	var w Writer
	p := make([]byte, 512)
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		s.room, s.wire = 1<<20, s.wire[:0]
		w.Message(s, frame.OpBinary, p, true)
	}
}

func BenchmarkMessageQueued(b *testing.B) {
	s := newSink(0)
	var w Writer
	p := make([]byte, 512)
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		s.room = 0
		w.Message(s, frame.OpBinary, p, true)
		s.room, s.wire = 1<<20, s.wire[:0]
		w.Flush(s)
	}
}

// TestDoneAfterQueued: the completions' byte count starts when the first
// completion is added (writer.go, extras.appended), so messages queued before
// it, and after it, complete exactly when the socket has taken their last
// byte, whatever the socket takes at a time.
func TestDoneAfterQueued(t *testing.T) {
	t.Parallel()
	for _, step := range []int{1, 2, 3, 7, 9, 100} {
		s := newSink(0) // everything queues
		var w Writer
		msg := func(p string) { // 2-byte header + p on the wire, unmasked
			if err := w.Message(s, frame.OpText, []byte(p), true); err != nil {
				t.Fatal(err)
			}
		}
		msg("first") // queued with no completion: no extras yet
		var doneAt []int
		add := func(id int) {
			if !w.AddDone(s, func(error) { doneAt = append(doneAt, id) }) {
				t.Fatalf("step %d: message %d completed with nothing written", step, id)
			}
		}
		msg("second")
		add(2) // due at 7 + 8 = 15 bytes
		msg("third")
		msg("fourth")
		add(4) // due at 15 + 7 + 8 = 30 bytes
		var taken int
		want := map[int]int{2: 15, 4: 30}
		for w.Len() > 0 {
			s.room += step
			f := w.Flush(s)
			taken = len(s.wire)
			for _, d := range f.Dones {
				d.Fn(nil)
			}
			for _, id := range doneAt {
				if taken < want[id] {
					t.Fatalf("step %d: message %d completed at %d bytes, before its last (%d)", step, id, taken, want[id])
				}
			}
			for id, at := range want {
				if taken >= at && !slices.Contains(doneAt, id) {
					t.Fatalf("step %d: message %d not completed at %d bytes (its last: %d)", step, id, taken, at)
				}
			}
		}
		if len(doneAt) != 2 || doneAt[0] != 2 || doneAt[1] != 4 {
			t.Fatalf("step %d: completions %v", step, doneAt)
		}
	}
}
