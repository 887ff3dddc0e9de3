package loadgen

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrBadOptions is wrapped by every error about unusable Options.
var ErrBadOptions = errors.New("loadgen: bad options")

// maxSources is the number of source addresses 127.0.0.2 .. 127.0.0.255.
const maxSources = 254

// Options configure one generator. Each field travels to a child process as a flag
// (Args, ParseArgs); the flag names are those `wsbench run` passes.
type Options struct {
	// Target is the server: a ws:// or wss:// URL, or host:port for ws://host:port/.
	Target string // -target
	// Raw dials plain TCP and sends the message bytes unframed, for a raw TCP echo
	// server as the baseline. Not with wss.
	Raw bool // -raw
	// Conns is the number of connections to hold open (not used by Storm).
	Conns int // -conns
	// Base is the global index of this generator's first connection, so that the
	// generators of several processes spread over the source addresses as one.
	Base int // -base
	// Sources spreads connections round robin over this many source addresses,
	// 127.0.0.2 and up (at most 254); 0 leaves the choice to the kernel. Only for
	// loopback targets, and only where those addresses are configured (Linux: all
	// of 127.0.0.0/8; macOS: only 127.0.0.1 unless aliased).
	Sources int // -nsrc
	// Size is the echo message size in bytes.
	Size int // -size
	// Text sends JSON-like text, compressible like API traffic, instead of binary.
	Text bool // -text
	// Deflate offers permessage-deflate (RFC 7692).
	Deflate bool // -deflate
	// Storm dials and closes connections for StormFor from Concurrency goroutines
	// instead of holding Conns open.
	Storm       bool          // -storm
	Concurrency int           // -conc
	StormFor    time.Duration // -dur
	// DialTimeout bounds one dial: TCP, TLS and the WebSocket handshake (0: 20 s).
	DialTimeout time.Duration // -dialto
	// ConnectFor bounds the whole connect phase (0: none): dials still in flight
	// when it ends are abandoned, and they and the dials never started count as
	// failed, so that an unreachable server ends a run in bounded time.
	ConnectFor time.Duration // -connfor
	// Rate turns the echo loop into an open loop: this many messages a second in
	// all, sent round robin over the connections at scheduled times whether or not
	// earlier echoes have come back, each carrying its scheduled send time
	// (stamp.go). The histogram measures from that time, so a stalled server
	// shows in the percentiles instead of slowing the sender down (no coordinated
	// omission). 0: the closed loop.
	Rate float64 // -rate
	// Fanout is the broadcast latency workload: Publishers of the connections send
	// Rate stamped messages a second in all (as chat JSON, {"name":..,"text":..},
	// which weir serve's /chat broadcasts as is); every connection records the
	// delay from each stamp's send time to its arrival. The server is expected to
	// relay each message to many connections; any message without a stamp is
	// ignored.
	Fanout     bool // -fanout
	Publishers int  // -pubs
}

// dialTimeout is o.DialTimeout with its default.
func (o Options) dialTimeout() time.Duration {
	if o.DialTimeout > 0 {
		return o.DialTimeout
	}
	return handshakeTimeout
}

// ParseArgs reads Options from flags as Args writes them. Unset flags keep the
// defaults `wsbench gen` has always had: 100 connections over 8 source addresses,
// 64-byte messages, storms of 2 s from 32 goroutines.
func ParseArgs(args []string) (Options, error) {
	o := Options{Conns: 100, Sources: 8, Size: 64, Concurrency: 32, StormFor: 2 * time.Second}
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.StringVar(&o.Target, "target", o.Target, "server: ws:// or wss:// URL, or host:port")
	fs.BoolVar(&o.Raw, "raw", o.Raw, "raw TCP (no WebSocket framing)")
	fs.IntVar(&o.Conns, "conns", o.Conns, "connections")
	fs.IntVar(&o.Base, "base", o.Base, "global index of the first connection")
	fs.IntVar(&o.Sources, "nsrc", o.Sources, "source addresses 127.0.0.2 and up (0: the kernel's pick)")
	fs.IntVar(&o.Size, "size", o.Size, "message size, bytes")
	fs.BoolVar(&o.Text, "text", o.Text, "send JSON-like text instead of binary")
	fs.BoolVar(&o.Deflate, "deflate", o.Deflate, "offer permessage-deflate")
	fs.BoolVar(&o.Storm, "storm", o.Storm, "connection storm: dial and close for -dur")
	fs.IntVar(&o.Concurrency, "conc", o.Concurrency, "storm: dialling goroutines")
	fs.DurationVar(&o.StormFor, "dur", o.StormFor, "storm: duration")
	fs.DurationVar(&o.DialTimeout, "dialto", o.DialTimeout, "bound on one dial (0: 20s)")
	fs.DurationVar(&o.ConnectFor, "connfor", o.ConnectFor, "bound on the connect phase (0: none)")
	fs.Float64Var(&o.Rate, "rate", o.Rate, "open loop (fanout: publishing) rate, messages/s (0: closed loop)")
	fs.BoolVar(&o.Fanout, "fanout", o.Fanout, "fan-out: publishers send stamped messages, every connection times their arrival")
	fs.IntVar(&o.Publishers, "pubs", o.Publishers, "fanout: publishing connections")
	if err := fs.Parse(args); err != nil {
		return Options{}, err
	}
	if fs.NArg() > 0 {
		return Options{}, fmt.Errorf("%w: unexpected argument %q", ErrBadOptions, fs.Arg(0))
	}
	return o, o.Check()
}

// Args returns o as flags for ParseArgs, every field spelled out.
func (o Options) Args() []string {
	a := []string{
		"-target", o.Target,
		"-conns", strconv.Itoa(o.Conns),
		"-base", strconv.Itoa(o.Base),
		"-nsrc", strconv.Itoa(o.Sources),
		"-size", strconv.Itoa(o.Size),
		"-conc", strconv.Itoa(o.Concurrency),
		"-dur", o.StormFor.String(),
		"-dialto", o.DialTimeout.String(),
		"-connfor", o.ConnectFor.String(),
		"-rate", strconv.FormatFloat(o.Rate, 'g', -1, 64),
		"-pubs", strconv.Itoa(o.Publishers),
	}
	for _, b := range []struct {
		on   bool
		flag string
	}{{o.Raw, "-raw"}, {o.Text, "-text"}, {o.Deflate, "-deflate"}, {o.Storm, "-storm"}, {o.Fanout, "-fanout"}} {
		if b.on {
			a = append(a, b.flag)
		}
	}
	return a
}

// Check reports why o cannot run, as an error wrapping ErrBadOptions, or nil.
func (o Options) Check() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrBadOptions}, a...)...)
	}
	u, _, err := o.endpoint()
	if err != nil {
		return err
	}
	switch {
	case o.Conns < 0 || o.Base < 0 || o.Size < 0:
		return bad("negative count (conns %d, base %d, size %d)", o.Conns, o.Base, o.Size)
	case o.Sources < 0 || o.Sources > maxSources:
		return bad("%d source addresses (0 to %d)", o.Sources, maxSources)
	case o.Storm && (o.Concurrency <= 0 || o.StormFor <= 0):
		return bad("storm needs concurrency and duration above 0 (%d, %v)", o.Concurrency, o.StormFor)
	case o.Raw && u.Scheme == "wss":
		return bad("raw TCP with a wss URL")
	case o.DialTimeout < 0 || o.ConnectFor < 0:
		return bad("negative dial timeout %v or connect bound %v", o.DialTimeout, o.ConnectFor)
	case !(o.Rate >= 0 && o.Rate <= maxRate): // catches NaN too
		return bad("rate %v (0 to %v messages/s)", o.Rate, maxRate)
	case o.Rate > 0 && (o.Raw || o.Storm):
		return bad("a rate is for the WebSocket echo and fanout workloads")
	case o.Rate > 0 && !o.Fanout && o.Size < stampLen:
		return bad("an open loop needs messages of at least %d bytes for the send time (size %d)", stampLen, o.Size)
	case o.Fanout && (o.Raw || o.Storm || o.Publishers < 0 || o.Publishers > o.Conns):
		return bad("fanout needs WebSocket connections and 0 to %d publishers (%d)", o.Conns, o.Publishers)
	case o.Fanout && o.Publishers > 0 && o.Rate <= 0:
		return bad("fanout publishers need a rate")
	}
	return nil
}

// endpoint returns the URL to dial and the host:port it names.
func (o Options) endpoint() (*url.URL, string, error) {
	t := o.Target
	if t == "" {
		return nil, "", fmt.Errorf("%w: no target", ErrBadOptions)
	}
	if !strings.Contains(t, "://") {
		t = "ws://" + t + "/"
	}
	u, err := url.Parse(t)
	if err != nil {
		return nil, "", fmt.Errorf("%w: target: %v", ErrBadOptions, err)
	}
	port := ""
	switch u.Scheme {
	case "ws":
		port = "80"
	case "wss":
		port = "443"
	default:
		return nil, "", fmt.Errorf("%w: target scheme %q (ws or wss)", ErrBadOptions, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, "", fmt.Errorf("%w: target %q has no host", ErrBadOptions, o.Target)
	}
	if u.Port() != "" {
		port = u.Port()
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u, net.JoinHostPort(u.Hostname(), port), nil
}
