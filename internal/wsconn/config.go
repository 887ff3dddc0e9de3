package wsconn

import (
	"log/slog"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/internal/keepalive"
	"github.com/weir-ws/weir/internal/sock"
	"github.com/weir-ws/weir/internal/wsread"
	"github.com/weir-ws/weir/internal/wswrite"
)

// Config is what the machine reads of an engine.Config (documented there),
// every default filled in and converted by the engine, with the limits the
// read and write sides and the keepalive checks take made from it there.
// What only hosting reads (listening, the caps, TLS) stays in engine.
type Config struct {
	Loops, Workers   int
	Inline           bool // engine.DispatchInline
	GoroutinePerConn bool
	ReadBufferSize   int
	ReadQueue        int
	DisableAssembly  bool
	DisableAutoPong  bool
	WriteHighWater   int
	MaxTotalInbound  int64
	HandshakeTimeout time.Duration
	CloseTimeout     time.Duration
	TimerResolution  time.Duration
	TCP              sock.TCPOptions // TCPKeepAlive, TCPUserTimeout
	Compression      *deflate.Options
	Trace            *Trace
	Logger           *slog.Logger
	PanicPolicy      PanicPolicy
	ReadLimits       wsread.Limits
	WriteLimits      wswrite.Limits
	Keepalive        keepalive.Policy
}
