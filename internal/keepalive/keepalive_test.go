package keepalive

import (
	"testing"
	"time"
)

// clock is a wheel with 1 s ticks and the wheel's slack of 2.
type clock struct{}

func (clock) After(from int64, d time.Duration) int64 {
	return from + max(1, int64((d+time.Second-1)/time.Second)) + 2
}

var (
	pingPong = Policy{Ping: 20 * time.Second, Pong: 10 * time.Second}
	pingOnly = Policy{Ping: 20 * time.Second, Pong: -1}
	idleOnly = Policy{Ping: -1, Idle: 30 * time.Second}
	both     = Policy{Ping: 20 * time.Second, Pong: 10 * time.Second, Idle: 15 * time.Second}
)

func TestNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		p             Policy
		last, pingDue int64
		want          int64
	}{
		{"nothing to check", Policy{Ping: -1, Pong: -1}, 100, 0, -1},
		{"ping after input", pingPong, 100, 0, 122},
		{"pong grace after a ping", pingPong, 100, 122, 134},
		{"input since the ping: ping again from it", pingPong, 125, 122, 147},
		{"ping only: the next ping", pingOnly, 100, 122, 144},
		{"idle only", idleOnly, 100, 0, 132},
		{"idle sooner than the ping", both, 100, 0, 117},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.p.Next(clock{}, tc.last, tc.pingDue); got != tc.want {
				t.Fatalf("Next = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		p              Policy
		now, last, due int64
		want           Action
		wantDue        int64
	}{
		{"before the ping is due", pingPong, 121, 100, 0, Wait, 0},
		{"ping due", pingPong, 122, 100, 0, Ping, 122},
		{"inside the pong grace", pingPong, 133, 100, 122, Wait, 122},
		{"pong grace over: drop", pingPong, 134, 100, 122, Drop, 122},
		{"input answered the ping", pingPong, 134, 123, 122, Wait, 0},
		{"input on the ping's tick answers it", pingPong, 134, 122, 122, Wait, 0},
		{"ping only: re-ping, never drop", pingOnly, 144, 100, 122, Ping, 144},
		{"ping only: not yet", pingOnly, 143, 100, 122, Wait, 122},
		{"idle", idleOnly, 132, 100, 0, Close, 0},
		{"idle not yet", idleOnly, 131, 100, 0, Wait, 0},
		{"idle before the ping", both, 117, 100, 0, Close, 0},
		{"no pings: nothing", Policy{Ping: -1}, 1000, 0, 0, Wait, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			due, mark := tc.due, int64(7)
			if got := tc.p.Check(clock{}, tc.now, tc.last, count(7), &due, &mark); got != tc.want || due != tc.wantDue {
				t.Fatalf("Check = %d (pingDue %d), want %d (pingDue %d)", got, due, tc.want, tc.wantDue)
			}
		})
	}
}

// count is an output count that stays at n.
func count(n int64) func() int64 { return func() int64 { return n } }

// TestCheckOutputRead: the output count (a system call in the engine) is read
// only while a ping is unanswered or when one goes out, not on a check that
// finds input since the last ping, nor on one before a ping is due.
func TestCheckOutputRead(t *testing.T) {
	t.Parallel()
	reads := 0
	out := func() int64 { reads++; return 1 }
	due, mark := int64(0), int64(0)
	if a := pingPong.Check(clock{}, 121, 100, out, &due, &mark); a != Wait || reads != 0 {
		t.Fatalf("before the ping: %d, %d reads", a, reads)
	}
	if a := pingPong.Check(clock{}, 122, 100, out, &due, &mark); a != Ping || reads != 1 || mark != 1 {
		t.Fatalf("the ping: %d, %d reads, mark %d", a, reads, mark)
	}
	if a := pingPong.Check(clock{}, 134, 123, out, &due, &mark); a != Wait || reads != 1 || due != 0 {
		t.Fatalf("answered: %d, %d reads, due %d", a, reads, due)
	}
}

// TestCheckOutput: output the peer took since the ping restarts the pong
// grace (it cannot answer a ping queued behind that output); none, and it is
// dropped as before. A ping marks the output count it went out at.
func TestCheckOutput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		p                    Policy
		now, last, due, mark int64
		out                  int64
		want                 Action
		wantDue, wantMark    int64
	}{
		{"ping marks the output count", pingPong, 122, 100, 0, 0, 5000, Ping, 122, 5000},
		{"output taken: grace again from now", pingPong, 134, 100, 122, 5000, 9000, Wait, 134, 9000},
		{"nothing taken: drop", pingPong, 134, 100, 122, 5000, 5000, Drop, 122, 5000},
		{"grace again, then nothing more: drop", pingPong, 146, 100, 134, 9000, 9000, Drop, 134, 9000},
		{"input answers, output aside", pingPong, 134, 123, 122, 5000, 9000, Wait, 0, 5000},
		{"ping only: output puts off the next ping", pingOnly, 144, 100, 122, 5000, 6000, Wait, 144, 6000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			due, mark := tc.due, tc.mark
			got := tc.p.Check(clock{}, tc.now, tc.last, count(tc.out), &due, &mark)
			if got != tc.want || due != tc.wantDue || mark != tc.wantMark {
				t.Fatalf("Check = %d (pingDue %d, mark %d), want %d (%d, %d)", got, due, mark, tc.want, tc.wantDue, tc.wantMark)
			}
		})
	}
}

// A check at the tick Next armed always finds something due (the two agree),
// and one tick earlier finds nothing (never early).
func TestNextAndCheckAgree(t *testing.T) {
	t.Parallel()
	for _, p := range []Policy{pingPong, pingOnly, idleOnly, both} {
		for _, st := range []struct{ last, due int64 }{{100, 0}, {100, 122}, {125, 122}} {
			next := p.Next(clock{}, st.last, st.due)
			due, mark := st.due, int64(0)
			if a := p.Check(clock{}, next-1, st.last, count(0), &due, &mark); a != Wait {
				t.Errorf("%+v %+v: a check a tick before Next (%d) found %d due", p, st, next, a)
			}
			due = st.due
			if a := p.Check(clock{}, next, st.last, count(0), &due, &mark); a == Wait {
				t.Errorf("%+v %+v: a check at Next (%d) found nothing due", p, st, next)
			}
		}
	}
}
