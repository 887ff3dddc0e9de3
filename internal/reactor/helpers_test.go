package reactor

import (
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/internal/sock"
	"github.com/weir-ws/weir/internal/wheel"
)

// tconn is a connection as the tests see it: its word, its fd, its loop and
// what its turns do (handle; nil: nothing, no more input).
type tconn struct {
	sched  Sched
	fd     sock.FD
	loop   *Loop[tconn, *tworker]
	front  bool
	input  atomic.Int64
	turns  atomic.Int32
	handle func(w *tworker, c *tconn, ev uint32) bool
	node   wheel.Node[tconn]
}

type tworker struct{ id int }

type tops struct{ tookOver atomic.Int32 }

func (*tops) Sched(c *tconn) *Sched                { return &c.sched }
func (*tops) FD(c *tconn) *sock.FD                 { return &c.fd }
func (*tops) Loop(c *tconn) *Loop[tconn, *tworker] { return c.loop }
func (*tops) Front(c *tconn) bool                  { return c.front }
func (*tops) Input(c *tconn, now int64)            { c.input.Store(now) }
func (*tops) Corkable(*tconn) bool                 { return false }
func (*tops) CorkOn(*tconn)                        {}
func (*tops) CorkOff(*tconn) bool                  { return false }
func (*tops) Corked(*tconn) []byte                 { return nil }
func (*tops) CorkSent(*tconn, int, error)          {}
func (*tops) NewWorker() *tworker                  { return &tworker{} }
func (o *tops) TookOver()                          { o.tookOver.Add(1) }
func (*tops) NewWheel() *wheel.Wheel[tconn] {
	return wheel.New(time.Millisecond, func(c *tconn) *wheel.Node[tconn] { return &c.node })
}

func (*tops) Handle(w *tworker, c *tconn, ev uint32) bool {
	c.turns.Add(1)
	if c.handle == nil {
		return false
	}
	return c.handle(w, c, ev)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newReactor makes a reactor over tops, not started; it is stopped at the
// end of the test. A platform without a poller skips the test.
func newReactor(t *testing.T, cfg Config) (*Reactor[tconn, *tworker], *tops) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	ops := &tops{}
	r, err := New(cfg, Ops[tconn, *tworker](ops))
	if err != nil {
		t.Skip("no poller:", err)
	}
	t.Cleanup(func() { r.Stop(); r.Close() })
	return r, ops
}

// waitFor polls cond until it holds or 20 s pass (generous: a busy machine).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for", what)
		}
	}
}
