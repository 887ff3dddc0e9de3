package defaults

import (
	"math"
	"reflect"
	"testing"
	"time"
)

// values are the fields Fill works on, as one comparable struct.
type values struct {
	Loops, Workers, ReadBufferSize             int
	MaxMessageSize, MaxFrameSize               int64
	MaxFragments                               int
	HandshakeTimeout, CloseTimeout             time.Duration
	PingInterval, PongTimeout, TimerResolution time.Duration
	MaxWriteBuffer, WriteHighWater             int
	MaxTotalBuffered, MaxTotalInbound          int64
	MaxTLSHandshakes, Backlog                  int
}

// fields points each field of Fields at v's field of the same name, so no
// field of Fields can be left nil by the tests.
func (v *values) fields() Fields {
	var f Fields
	fv, vv := reflect.ValueOf(&f).Elem(), reflect.ValueOf(v).Elem()
	for i := range fv.NumField() {
		fv.Field(i).Set(vv.FieldByName(fv.Type().Field(i).Name).Addr())
	}
	return f
}

func TestFill(t *testing.T) {
	t.Parallel()
	zeroOut := values{ // what the zero Config gets with 2 CPUs
		Loops: 2, Workers: 8, ReadBufferSize: 64 << 10,
		MaxMessageSize: 16 << 20, MaxFrameSize: 16 << 20, MaxFragments: 131072,
		HandshakeTimeout: 10 * time.Second, CloseTimeout: 5 * time.Second,
		PingInterval: 20 * time.Second, PongTimeout: 10 * time.Second, TimerResolution: 100 * time.Millisecond,
		MaxWriteBuffer: 4 << 20, WriteHighWater: 64 << 10,
		MaxTotalBuffered: 512 << 20, MaxTotalInbound: 256 << 20,
		MaxTLSHandshakes: 64, Backlog: 1024,
	}
	tests := []struct {
		name  string
		procs int
		in    values
		want  func(v *values) // changes zeroOut into the expected result
	}{
		{"zero", 2, values{}, func(*values) {}},
		{"one CPU", 1, values{}, func(v *values) { v.Loops, v.Workers = 1, 4 }},
		{"many CPUs", 16, values{}, func(v *values) { v.Loops, v.Workers, v.MaxTLSHandshakes = 16, 64, 256 }},
		{"negative sizes ask for the default", 2, values{
			Loops: -1, Workers: -1, ReadBufferSize: -1, MaxMessageSize: -1, MaxFrameSize: -1,
			CloseTimeout: -1, TimerResolution: -1, MaxWriteBuffer: -1, MaxTLSHandshakes: -1, Backlog: -1,
		}, func(*values) {}},
		{"negative means none", 2, values{
			MaxFragments: -1, HandshakeTimeout: -1, PingInterval: -1, PongTimeout: -1,
			WriteHighWater: -1, MaxTotalBuffered: -1, MaxTotalInbound: -1,
		}, func(v *values) {
			v.MaxFragments, v.HandshakeTimeout, v.PingInterval, v.PongTimeout = -1, -1, -1, -1
			v.WriteHighWater, v.MaxTotalBuffered, v.MaxTotalInbound = -1, -1, -1
		}},
		{"derived from the message size", 2, values{MaxMessageSize: 1 << 30}, func(v *values) {
			v.MaxMessageSize, v.MaxFrameSize = 1<<30, 1<<30
			v.MaxFragments = (1 << 30) / FragmentBytes
			v.MaxTotalInbound = 4<<30 + 8<<20
		}},
		{"small messages keep the floors", 2, values{MaxMessageSize: 1024}, func(v *values) {
			v.MaxMessageSize, v.MaxFrameSize, v.MaxFragments, v.MaxTotalInbound = 1024, 1024, 16384, 256<<20
		}},
		{"no overflow", 2, values{MaxMessageSize: math.MaxInt64}, func(v *values) {
			v.MaxMessageSize, v.MaxFrameSize = math.MaxInt64, math.MaxInt64
			v.MaxFragments = math.MaxInt32
			v.MaxTotalInbound = 4*((math.MaxInt64-8<<20)/4) + 8<<20
		}},
		{"high water from a small buffer", 2, values{MaxWriteBuffer: 1000}, func(v *values) {
			v.MaxWriteBuffer, v.WriteHighWater = 1000, 1000
		}},
		{"set fields are kept", 2, values{
			Loops: 3, Workers: 5, ReadBufferSize: 7, MaxMessageSize: 1 << 20, MaxFrameSize: 9, MaxFragments: 11,
			HandshakeTimeout: 13, CloseTimeout: 15, PingInterval: 17, PongTimeout: 19, TimerResolution: 21,
			MaxWriteBuffer: 23, WriteHighWater: 25, MaxTotalBuffered: 27, MaxTotalInbound: 29,
			MaxTLSHandshakes: 31, Backlog: 33,
		}, func(v *values) {
			*v = values{
				Loops: 3, Workers: 5, ReadBufferSize: 7, MaxMessageSize: 1 << 20, MaxFrameSize: 9, MaxFragments: 11,
				HandshakeTimeout: 13, CloseTimeout: 15, PingInterval: 17, PongTimeout: 19, TimerResolution: 21,
				MaxWriteBuffer: 23, WriteHighWater: 25, MaxTotalBuffered: 27, MaxTotalInbound: 29,
				MaxTLSHandshakes: 31, Backlog: 33,
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.in
			Fill(tc.procs, got.fields())
			want := zeroOut
			tc.want(&want)
			if got != want {
				t.Fatalf("Fill(%d, %+v)\n got %+v\nwant %+v", tc.procs, tc.in, got, want)
			}
		})
	}
}

func TestQueueShare(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ total, want int64 }{
		{-1, -1},
		{0, 0},
		{4, 3},
		{1 << 20, 3 << 18},
		{8 << 20, 6 << 20},
		{64 << 20, 62 << 20},
		{512 << 20, 510 << 20},
		{math.MaxInt64, math.MaxInt64 - MaxHeadroom},
	} {
		if got := QueueShare(tc.total); got != tc.want {
			t.Errorf("QueueShare(%d) = %d, want %d", tc.total, got, tc.want)
		}
	}
}
