package keepalive

import "time"

// Clock converts durations to ticks: After is the deadline d after the
// recorded tick from, never early (*wheel.Wheel implements it).
type Clock interface {
	After(from int64, d time.Duration) int64
}

// Policy is a connection's keepalive: Config.PingInterval, PongTimeout and
// IdleTimeout after their defaults.
type Policy struct {
	// Ping: after this long without input a ping goes out. <= 0: no pings.
	Ping time.Duration
	// Pong: nothing arriving this long after a ping drops the connection.
	// <= 0: ping every Ping, never drop (keeps a NAT mapping warm).
	Pong time.Duration
	// Idle: this long without input closes the connection. <= 0: never.
	Idle time.Duration
}

// Action is what a check finds due.
type Action uint8

const (
	Wait  Action = iota // nothing: re-arm at Next
	Ping                // send a keepalive ping (pingDue is set to now)
	Drop                // the ping went unanswered for Pong: drop the connection
	Close               // no input for Idle: close the connection
)

// Next is the tick of the next check, from the tick of the last input and
// that of the unanswered ping (0: none), or -1 when the policy checks nothing.
func (p *Policy) Next(clk Clock, last, pingDue int64) int64 {
	next := int64(-1)
	if p.Ping > 0 {
		switch {
		case pingDue != 0 && last < pingDue && p.Pong > 0:
			next = clk.After(pingDue, p.Pong)
		case pingDue != 0 && last < pingDue:
			next = clk.After(pingDue, p.Ping) // ping only: the next ping
		default:
			next = clk.After(last, p.Ping)
		}
	}
	if p.Idle > 0 {
		if idle := clk.After(last, p.Idle); next < 0 || idle < next {
			next = idle
		}
	}
	return next
}

// Check says what is due at tick now, given the tick of the last input and
// out, which reads a count that moves whenever the peer takes output (bytes
// written less those the kernel still holds: the caller's I/O, called only
// while a ping is unanswered or when one goes out). It keeps *pingDue, the
// tick of the unanswered ping (cleared when input arrived since it, set to now
// when it answers Ping), and *outMark, out when the ping went out.
//
// Output the peer took since the ping is a sign of life too: a peer reading
// a big message slowly cannot answer a ping queued behind it (in our queue or
// the kernel's), yet it is alive. The pong grace then starts again from now;
// a peer that takes nothing and says nothing for Pong is dropped.
func (p *Policy) Check(clk Clock, now, last int64, out func() int64, pingDue, outMark *int64) Action {
	if p.Idle > 0 && now >= clk.After(last, p.Idle) {
		return Close
	}
	if p.Ping <= 0 {
		return Wait
	}
	if *pingDue != 0 && last >= *pingDue {
		*pingDue = 0 // input arrived since the ping: it was the answer
	}
	if *pingDue != 0 {
		if o := out(); o != *outMark {
			*pingDue, *outMark = now, o // alive: its answer may wait behind our output
		}
	}
	switch {
	case *pingDue != 0 && p.Pong > 0:
		if now >= clk.After(*pingDue, p.Pong) {
			return Drop
		}
	case *pingDue != 0: // Pong <= 0: ping on, never drop
		if now >= clk.After(*pingDue, p.Ping) {
			*pingDue, *outMark = now, out()
			return Ping
		}
	case now >= clk.After(last, p.Ping):
		*pingDue, *outMark = now, out()
		return Ping
	}
	return Wait
}
