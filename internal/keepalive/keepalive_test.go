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
			due := tc.due
			if got := tc.p.Check(clock{}, tc.now, tc.last, &due); got != tc.want || due != tc.wantDue {
				t.Fatalf("Check = %d (pingDue %d), want %d (pingDue %d)", got, due, tc.want, tc.wantDue)
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
			due := st.due
			if a := p.Check(clock{}, next-1, st.last, &due); a != Wait {
				t.Errorf("%+v %+v: a check a tick before Next (%d) found %d due", p, st, next, a)
			}
			due = st.due
			if a := p.Check(clock{}, next, st.last, &due); a == Wait {
				t.Errorf("%+v %+v: a check at Next (%d) found nothing due", p, st, next)
			}
		}
	}
}
