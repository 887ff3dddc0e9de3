package engine

import (
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
)

// TestConfigReachesMachine: every setting of the machine's Config is made
// from an engine.Config (machine). With every engine.Config field set, no
// field of the machine's may be left at its zero value: a field added to
// wsconn.Config and not converted would be silently the default.
func TestConfigReachesMachine(t *testing.T) {
	t.Parallel()
	cfg := Config{
		Loops: 3, Workers: 5, Dispatch: DispatchInline, ReadBufferSize: 8192,
		MaxMessageSize: 1 << 20, MaxFrameSize: 1 << 19, MaxFragments: 9,
		DisableAssembly: true, SkipUTF8Validation: true, DisableAutoPong: true,
		HandshakeTimeout: time.Second, CloseTimeout: 2 * time.Second,
		PingInterval: 3 * time.Second, PongTimeout: 4 * time.Second, IdleTimeout: 5 * time.Second,
		TimerResolution: 7 * time.Millisecond,
		MaxWriteBuffer:  1 << 16, WriteBufferPolicy: WriteBufferClose, DrainLowWater: 100,
		WriteHighWater: 200, MaxTotalBuffered: 1 << 24, MaxTotalInbound: 1 << 25, WriteFragmentSize: 4096,
		MaxConns: 10, MaxConnsPerIP: 2, IPv6PrefixLen: 56, TCPUserTimeout: time.Second,
		Backlog: 64, ReusePort: true, MaxTLSHandshakes: 3, TLSDropExporter: true, GoroutinePerConn: true,
		Compression: &deflate.Options{}, ReadQueue: 7,
		Trace:  &Trace{FrameIn: func(*Conn, frame.Header) {}, FrameOut: func(*Conn, frame.Header) {}},
		Logger: slog.Default(), PanicPolicy: PanicPropagate,
	}
	cfg.TCPKeepAlive.Enable = true
	d := cfg.filled()
	m := reflect.ValueOf(*d.machine())
	for i := range m.NumField() {
		if m.Field(i).IsZero() {
			t.Errorf("wsconn.Config.%s is zero: machine() does not set it", m.Type().Field(i).Name)
		}
	}
	// Every engine.Config field is listed above: one left out would pass
	// the check above for a field nobody set.
	c := reflect.ValueOf(cfg)
	for i := range c.NumField() {
		if c.Field(i).IsZero() {
			t.Errorf("the test leaves Config.%s zero", c.Type().Field(i).Name)
		}
	}
}
