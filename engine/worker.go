package engine

import "github.com/weir-ws/weir/upgrade"

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
// goroutines that drain it.
type pool struct {
	q    chan *Conn
	stop chan struct{}
}

func newPool(e *engine, n, bufSize int) *pool {
	p := &pool{q: make(chan *Conn, 4096), stop: make(chan struct{})}
	for range n {
		w := newWorker(bufSize)
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			for {
				select {
				case c := <-p.q:
					c.run(w)
				case <-p.stop:
					return
				}
			}
		}()
	}
	return p
}

// requeue puts c, whose running bit its worker keeps, at the back of the queue.
func (e *engine) requeue(c *Conn) {
	if e.pool == nil {
		c.loop.enqueue(c)
		return
	}
	select {
	case e.pool.q <- c:
	default:
		go func() {
			select {
			case e.pool.q <- c:
			case <-e.pool.stop:
			}
		}()
	}
}

// dispatch hands c, whose running bit the caller set, to its runner.
// It is called from any goroutine (the loop has its own path, loop.onEvent), so under
// DispatchInline it queues c on its loop's inbox. A full pool queue never blocks the
// poster: a worker posting to another connection must not wait for the workers.
func (e *engine) dispatch(c *Conn) {
	if e.pool == nil {
		c.loop.enqueue(c)
		return
	}
	select {
	case e.pool.q <- c:
	default:
		go func() {
			select {
			case e.pool.q <- c:
			case <-e.pool.stop:
			}
		}()
	}
}
