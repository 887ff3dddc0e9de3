package defaults

import (
	"math"
	"time"
)

// Fields points at the Config fields that have a default.
type Fields struct {
	Loops, Workers, ReadBufferSize             *int
	MaxMessageSize, MaxFrameSize               *int64
	MaxFragments                               *int
	HandshakeTimeout, CloseTimeout             *time.Duration
	PingInterval, PongTimeout, TimerResolution *time.Duration
	MaxWriteBuffer, WriteHighWater             *int
	MaxTotalBuffered, MaxTotalInbound          *int64
	MaxTLSHandshakes, Backlog                  *int
}

// FragmentBytes is the average fragment size the default MaxFragments allows
// for a message of MaxMessageSize bytes.
const FragmentBytes = 128

// Fill sets every field of f that asks for its default, for a process with
// procs usable CPUs (GOMAXPROCS).
func Fill(procs int, f Fields) {
	positive(f.Loops, procs)
	positive(f.Workers, max(4, 4*procs))
	positive(f.ReadBufferSize, 64<<10)
	positive(f.MaxMessageSize, 16<<20)
	positive(f.MaxFrameSize, *f.MaxMessageSize)
	zero(f.MaxFragments, int(min(max(16384, *f.MaxMessageSize/FragmentBytes), math.MaxInt32)))
	zero(f.HandshakeTimeout, 10*time.Second)
	positive(f.CloseTimeout, 5*time.Second)
	zero(f.PingInterval, 20*time.Second)
	zero(f.PongTimeout, 10*time.Second)
	positive(f.TimerResolution, 100*time.Millisecond)
	positive(f.MaxWriteBuffer, 4<<20)
	zero(f.WriteHighWater, min(64<<10, *f.MaxWriteBuffer))
	zero(f.MaxTotalBuffered, 512<<20)
	// Four messages of the largest size (a reader's and an assembly buffer
	// can each round up to twice it) beside wsread.Total's reserve for small
	// growths (at most 8 MiB), which large ones cannot take.
	zero(f.MaxTotalInbound, max(256<<20, 4*min(*f.MaxMessageSize, (math.MaxInt64-8<<20)/4)+8<<20))
	positive(f.MaxTLSHandshakes, max(64, 16*procs))
	positive(f.Backlog, 1024)
}

type number interface{ ~int | ~int64 }

// zero sets *p to d when it is zero (negative values mean "none").
func zero[T number](p *T, d T) {
	if *p == 0 {
		*p = d
	}
}

// positive sets *p to d when it is zero or negative.
func positive[T number](p *T, d T) {
	if *p <= 0 {
		*p = d
	}
}

// MaxHeadroom is the most of MaxTotalBuffered that QueueShare leaves out of
// the queues' share.
const MaxHeadroom = 2 << 20

// QueueShare is the part of a MaxTotalBuffered of total bytes the connections'
// queues may hold together: total less a headroom of min(MaxHeadroom,
// total/4), so that what the process grows by when the budget is full (the
// queues, and around them the pool's free lists, code run for the first
// time, thread stacks and the collector's metadata: under 1 MiB measured with
// 2,000 connections) stays within total. A negative total (no cap) is kept.
func QueueShare(total int64) int64 {
	if total < 0 {
		return total
	}
	return total - min(MaxHeadroom, total/4)
}
