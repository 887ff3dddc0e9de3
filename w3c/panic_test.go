package w3c

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// syncBuf is a log sink safe from the callbacks' goroutine and the test's.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestListenerPanics: a callback that panics is reported (as a browser
// reports a listener's exception) and the WebSocket goes on: later events
// are dispatched, the close event comes, Done closes, and the process lives.
func TestListenerPanics(t *testing.T) {
	t.Parallel()
	for _, event := range []string{"open", "message", "error", "close"} {
		t.Run(event, func(t *testing.T) {
			t.Parallel()
			url, _ := startServer(t)
			r := newRecorder()
			var log syncBuf
			o := r.options(&Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
			wrap := func(name string, f func()) {
				f()
				if name == event {
					panic("listener " + name)
				}
			}
			open, msg, errf, cl := o.OnOpen, o.OnMessage, o.OnError, o.OnClose
			var once sync.Once
			o.OnOpen = func(e Event) { wrap("open", func() { open(e) }) }
			o.OnMessage = func(e MessageEvent) {
				msg(e)
				if event == "message" {
					once.Do(func() { panic("listener message") })
				}
			}
			o.OnError = func(e ErrorEvent) { wrap("error", func() { errf(e) }) }
			o.OnClose = func(e CloseEvent) { wrap("close", func() { cl(e) }) }
			ws, err := New(url, nil, o)
			if err != nil {
				t.Fatal(err)
			}
			r.waitFor(t, "open", func(r *recorder) bool { return len(r.events) > 0 })
			for _, m := range []string{"one", "two"} {
				if err := ws.Send(m); err != nil {
					t.Fatal(err)
				}
			}
			r.waitFor(t, "2 echoes", func(r *recorder) bool { return len(r.msgs) == 2 })
			// Gone without a close frame: an error event, then close (1006).
			if err := ws.Send("abort"); err != nil {
				t.Fatal(err)
			}
			waitDone(t, ws)
			r.mu.Lock()
			got := strings.Join(r.events, " ")
			r.mu.Unlock()
			if !strings.HasPrefix(got, "open message message") || !strings.HasSuffix(got, "close") {
				t.Fatalf("events %q", got)
			}
			if !strings.Contains(got, "error") {
				t.Fatalf("events %q: no error event to test", got)
			}
			if l := log.String(); !strings.Contains(l, "listener "+event) {
				t.Fatalf("the panic was not reported; log %q", l)
			}
		})
	}
}
