//go:build !fuzzonly

package natsbridge

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/weir-ws/weir/frame"
)

// stallProxy forwards TCP connections to target; once stalled it stops
// reading what clients send, so that their writes fill the socket buffers
// and then block in the kernel, as with a NATS server that stopped reading
// (SIGSTOPped, or a partition that drops packets without a reset).
type stallProxy struct {
	ln      net.Listener
	target  string
	stalled chan struct{} // closed: stop reading from clients
	resume  chan struct{} // closed: read again (cleanup)
	once    sync.Once
	mu      sync.Mutex
	conns   []net.Conn
	wg      sync.WaitGroup
}

func newStallProxy(t *testing.T, target string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{ln: ln, target: target, stalled: make(chan struct{}), resume: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		p.unstall()
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *stallProxy) stall()   { close(p.stalled) }
func (p *stallProxy) unstall() { p.once.Do(func() { close(p.resume) }) }

func (p *stallProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		// A small receive buffer: the stall is reached after a few
		// hundred KiB rather than megabytes.
		c.(*net.TCPConn).SetReadBuffer(4 << 10)
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { // server to client: always
			defer p.wg.Done()
			io.Copy(c, s)
			c.Close()
		}()
		go func() { // client to server: stops while stalled
			defer p.wg.Done()
			defer s.Close()
			buf := make([]byte, 4<<10)
			for {
				select {
				case <-p.stalled:
					select {
					case <-p.resume:
					default:
						<-p.resume
					}
				default:
				}
				n, err := c.Read(buf)
				if n > 0 {
					if _, werr := s.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// smallDialer dials with a small send buffer and records when the write in
// progress, if any, began (zero: none), to tell a stuck write.
type smallDialer struct{ writing atomic.Int64 }

func (d *smallDialer) Dial(network, address string) (net.Conn, error) {
	c, err := net.DialTimeout(network, address, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c.(*net.TCPConn).SetWriteBuffer(4 << 10)
	return &timedConn{Conn: c, d: d}, nil
}

type timedConn struct {
	net.Conn
	d *smallDialer
}

func (c *timedConn) Write(p []byte) (int, error) {
	c.d.writing.Store(time.Now().UnixNano())
	defer c.d.writing.Store(0)
	return c.Conn.Write(p)
}

// stuckFor reports whether a write has been in progress for at least d.
func (d *smallDialer) stuckFor(dur time.Duration) bool {
	w := d.writing.Load()
	return w != 0 && time.Since(time.Unix(0, w)) >= dur
}

// TestCloseBoundedOnStuckWrite: Close sends what is queued, flushes and
// closes the NATS connection, and each of those waits for nats.go's
// connection lock, which a write to a server that stopped reading holds for
// nats.go's FlusherTimeout, a minute by default. Before the fix Close took
// that minute. Now it returns within CloseTimeout and a little: past it the
// bridge cuts the socket it dialed, the stuck write fails, and every
// goroutine of the bridge and of nats.go ends (TestMain's leak check).
func TestCloseBoundedOnStuckWrite(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "solo", nil, false)
	proxy := newStallProxy(t, srv.Addr().String())
	d := &smallDialer{}
	const closeTimeout = 300 * time.Millisecond
	b := New(Config{URL: "nats://" + proxy.ln.Addr().String(), CloseTimeout: closeTimeout,
		Options: []nats.Option{nats.SetCustomDialer(d)}})
	if err := b.Start(func(string, frame.Opcode, []byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	b.Interest("sub", true)
	waitUntil(t, "the subscription", func() bool { return interest(srv, "weir.sub") == 1 })

	proxy.stall()
	payload := make([]byte, 16<<10)
	waitUntil(t, "a stuck write", func() bool {
		if err := b.Publish("load", frame.OpBinary, payload); err != nil && !errors.Is(err, ErrQueueFull) {
			t.Fatal(err)
		}
		return d.stuckFor(100 * time.Millisecond)
	})
	b.Interest("sub", false) // an unsubscribe waiting on nats.go too

	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- b.Close() }()
	select {
	case err := <-done:
		took := time.Since(start)
		t.Logf("Close took %v: %v", took, err)
		if !errors.Is(err, ErrCloseTimeout) {
			t.Errorf("Close = %v, want ErrCloseTimeout", err)
		}
		if took > closeTimeout+2*time.Second {
			t.Errorf("Close took %v with CloseTimeout %v", took, closeTimeout)
		}
	case <-time.After(5 * time.Second):
		proxy.unstall() // let the old Close end, for the leak check
		<-done
		t.Fatalf("Close still waiting after 5 s on a stuck write (CloseTimeout %v)", closeTimeout)
	}
	if st := b.Stats(); st.Connected || st.Subscriptions != 0 {
		t.Errorf("after Close: %+v", st)
	}
}

// gateDialer's first Dial tells dialing and waits for open.
type gateDialer struct {
	dialing, open chan struct{}
	once          sync.Once
}

func (d *gateDialer) Dial(network, address string) (net.Conn, error) {
	d.once.Do(func() {
		close(d.dialing)
		<-d.open
	})
	return net.DialTimeout(network, address, 5*time.Second)
}

// TestCloseDuringStart: a Close made while Start connects found no
// connection yet and returned; Start then went on to connect and start its
// goroutines on a closed bridge, and nothing ever closed that connection
// (a server-side client and nats.go's goroutines for good). Start now
// checks again once connected and closes what it made.
func TestCloseDuringStart(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "solo", nil, false)
	d := &gateDialer{dialing: make(chan struct{}), open: make(chan struct{})}
	b := New(Config{URL: srv.ClientURL(), Options: []nats.Option{nats.SetCustomDialer(d)}})
	started := make(chan error, 1)
	go func() { started <- b.Start(func(string, frame.Opcode, []byte) error { return nil }) }()
	<-d.dialing
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	close(d.open)
	if err := <-started; !errors.Is(err, ErrClosed) {
		t.Errorf("Start racing Close = %v, want ErrClosed", err)
		b.nc.Close() // for the leak check
	}
	waitUntil(t, "no client left on the server", func() bool { return srv.NumClients() == 0 })
}
