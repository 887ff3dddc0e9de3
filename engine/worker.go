package engine

import (
	"sync"
	"sync/atomic"

	"github.com/weir-ws/weir/upgrade"
)

// worker is the context connection work runs in: under DispatchPool one of
// Config.Workers goroutines, under DispatchInline the loop itself. It owns the read
// buffer every connection it serves reads into, so an idle connection owns none.
type worker struct {
	buf []byte           // Config.ReadBufferSize
	req *upgrade.Request // reusable handshake request view
	rsp []byte           // scratch for handshake responses
}

func newWorker(size int) *worker {
	return &worker{buf: make([]byte, size), req: upgrade.NewRequest(), rsp: make([]byte, 0, 1024)}
}

// pool is the bounded worker pool: a queue of connections with work and the
// goroutines that drain it. When the queue is full, connections wait in overflow,
// in order, and workers move them into the queue as they take from it: a poster
// never blocks and never starts a goroutine. A connection is handed over only by
// whoever set its running bit, so it is in the queue or in overflow at most once,
// and overflow never holds more entries than there are connections.
type pool struct {
	q    chan *Conn
	stop chan struct{}

	mu    sync.Mutex
	over  []*Conn      // overflow, FIFO from head
	head  int          // first live entry of over
	nover atomic.Int32 // len(over)-head, read without mu
}

// poolQueue is the capacity of the pool's channel.
const poolQueue = 4096

func newPool(e *engine, n, bufSize int) *pool { return startPool(e, n, bufSize, poolQueue) }

// startPool starts n workers on a queue of qlen.
func startPool(e *engine, n, bufSize, qlen int) *pool {
	p := &pool{q: make(chan *Conn, qlen), stop: make(chan struct{})}
	for range n {
		w := newWorker(bufSize)
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			for {
				c, ok := p.get()
				if !ok {
					return
				}
				c.run(w)
			}
		}()
	}
	return p
}

// get takes the next connection for a worker, waiting for one; false once the
// pool stops.
func (p *pool) get() (*Conn, bool) {
	select {
	case c := <-p.q:
		p.refill() // the slot just freed goes to the oldest in overflow
		return c, true
	case <-p.stop:
		return nil, false
	}
}

// put queues c, whose running bit the caller set, without blocking: into the
// channel while it has room and nobody waits in overflow (so order is kept), else
// at the end of overflow.
func (p *pool) put(c *Conn) {
	if p.nover.Load() == 0 {
		select {
		case p.q <- c:
			return
		default:
		}
	}
	p.mu.Lock()
	p.over = append(p.over, c)
	p.nover.Add(1)
	// The workers may have emptied the channel since the send above failed and
	// be waiting on it now, with nobody left to refill it: refill here.
	p.refillLocked()
	p.mu.Unlock()
}

// refill moves overflow into the channel while it has room.
func (p *pool) refill() {
	if p.nover.Load() == 0 {
		return
	}
	p.mu.Lock()
	p.refillLocked()
	p.mu.Unlock()
}

func (p *pool) refillLocked() {
	for p.head < len(p.over) {
		select {
		case p.q <- p.over[p.head]:
			p.over[p.head] = nil
			p.head++
			p.nover.Add(-1)
		default:
			return
		}
	}
	p.over, p.head = p.over[:0], 0
}

// requeue puts c, whose running bit its worker keeps, at the back of the queue.
func (e *engine) requeue(c *Conn) {
	if e.pool == nil {
		c.loop.enqueue(c)
		return
	}
	e.pool.put(c)
}

// dispatch hands c, whose running bit the caller set, to its runner.
// It is called from any goroutine (the loop has its own path, loop.post), so under
// DispatchInline it queues c on its loop's inbox. A full pool queue never blocks the
// poster: a worker posting to another connection must not wait for the workers.
func (e *engine) dispatch(c *Conn) {
	if e.pool == nil {
		c.loop.enqueue(c)
		return
	}
	e.pool.put(c)
}
