package natsbridge

import (
	"errors"
	"net"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
)

// errCut: a dial after Close cut the connection (nats.go's reconnect loop
// would otherwise dial the stuck server again while Close ends it).
var errCut = errors.New("natsbridge: connection cut by Close")

// cutDialer makes nats.go's connections (through the application's
// CustomDialer, if it gave one) and keeps the last, so that Close can cut it.
// nats.go writes to its socket holding its connection's lock, with a write
// deadline of FlusherTimeout (a minute by default), and its Flush, Close,
// Publish and Unsubscribe all take that lock: on a server that stopped
// reading, closing the socket is the one way to make them return sooner,
// and nats.go gives no access to it.
type cutDialer struct {
	inner nats.CustomDialer

	mu   sync.Mutex
	conn net.Conn // the last connection dialed
	cut  bool
}

// newCutDialer wraps o's dialer: its CustomDialer, else the net.Dialer
// nats.go would use (o.Dialer, or one with o.Timeout).
func newCutDialer(o *nats.Options) *cutDialer {
	inner := o.CustomDialer
	if inner == nil {
		d := &net.Dialer{Timeout: o.Timeout}
		if o.Dialer != nil {
			c := *o.Dialer
			d = &c
		}
		if o.AllowMultipathTCP != nil {
			d.SetMultipathTCP(*o.AllowMultipathTCP)
		}
		inner = d
	}
	return &cutDialer{inner: inner}
}

// Dial is nats.CustomDialer's.
func (d *cutDialer) Dial(network, address string) (net.Conn, error) {
	d.mu.Lock()
	cut := d.cut
	d.mu.Unlock()
	if cut {
		return nil, errCut
	}
	c, err := d.inner.Dial(network, address)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cut {
		c.Close()
		return nil, errCut
	}
	d.conn = c
	return c, nil
}

// SkipTLSHandshake passes the application dialer's answer on: nats.go asks
// the CustomDialer whether to skip its TLS handshake.
func (d *cutDialer) SkipTLSHandshake() bool {
	s, ok := d.inner.(interface{ SkipTLSHandshake() bool })
	return ok && s.SkipTLSHandshake()
}

// cutNow closes the connection and refuses any later dial.
func (d *cutDialer) cutNow() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cut = true
	if d.conn != nil {
		d.conn.Close()
	}
}

// natsOptions is what nats.Connect(url, opts...) makes of its arguments,
// so that Start can put its dialer in front of the application's.
func natsOptions(url string, opts []nats.Option) (nats.Options, error) {
	o := nats.GetDefaultOptions()
	for u := range strings.SplitSeq(url, ",") {
		if u = strings.TrimSpace(u); u != "" {
			o.Servers = append(o.Servers, u)
		}
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}
