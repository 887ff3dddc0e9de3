package engine

import (
	"sync"

	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
)

// PreparedMessage is a message encoded once and sent to many connections: server
// frames are not masked, so the same header and payload bytes serve every
// connection (ws and WebSocket-Node broadcast recipes, gorilla PreparedMessage).
type PreparedMessage struct {
	op    frame.Opcode
	data  []byte // the payload, as given
	frame []byte // header + payload, for server connections

	// Compressed frames, one per compressor window size (RFC 7692), made on first
	// use: a compressed message with an empty history is valid on every connection
	// with that window, with or without context takeover.
	zmu   sync.Mutex
	zopts *deflate.Options
	zfr   [deflate.MaxWindowBits + 1][]byte
}

// compressedFrame returns pm's frame compressed for a window of wbits.
func (pm *PreparedMessage) compressedFrame(wbits int, opts *deflate.Options) ([]byte, error) {
	pm.zmu.Lock()
	defer pm.zmu.Unlock()
	if f := pm.zfr[wbits]; f != nil {
		return f, nil
	}
	z, err := deflate.Compress(nil, pm.data, wbits, opts)
	if err != nil {
		return nil, err
	}
	h := frame.Header{Fin: true, Rsv: frame.Rsv1, Opcode: pm.op, Length: int64(len(z))}
	f := append(frame.AppendHeader(make([]byte, 0, frame.HeaderSize(h)+len(z)), h), z...)
	bufpool.Put(z)
	pm.zfr[wbits] = f
	return f, nil
}

// NewPreparedMessage copies payload and encodes its frame once.
func NewPreparedMessage(op frame.Opcode, payload []byte) *PreparedMessage {
	h := frame.Header{Fin: true, Opcode: op, Length: int64(len(payload))}
	b := frame.AppendHeader(make([]byte, 0, frame.HeaderSize(h)+len(payload)), h)
	b = append(b, payload...)
	return &PreparedMessage{op: op, data: b[len(b)-len(payload):], frame: b}
}

// Opcode is the message's opcode.
func (pm *PreparedMessage) Opcode() frame.Opcode { return pm.op }

// Payload is the message's payload (do not modify it).
func (pm *PreparedMessage) Payload() []byte { return pm.data }

// WritePrepared sends a prepared message. On a client connection the frame is masked
// as usual, into a pooled buffer.
func (c *Conn) WritePrepared(pm *PreparedMessage) error {
	c.mu.Lock()
	var err error
	if c.client {
		err = c.writeLocked(true, pm.op, 0, pm.data, false)
	} else if c.wflags&(wfClosed|wfSentClose) != 0 {
		err = ErrClosed
	} else {
		f := pm.frame
		compressed := false
		if c.fl != nil && c.wflags&wfNoCompress == 0 && c.fl.ShouldCompress(len(pm.data)) {
			if z, zerr := pm.compressedFrame(c.fl.WindowBits(), c.eng.cfg.Compression); zerr == nil {
				f, compressed = z, true
			}
		}
		if err = c.admit(len(f)); err == nil {
			c.stats.framesOut.Add(1)
			if t := c.eng.cfg.Trace; t != nil && t.FrameOut != nil {
				if h, _, herr := frame.ParseHeader(f); herr == nil {
					t.FrameOut(c, h)
				}
			}
			err = c.writeRaw(f, nil)
			if err == nil && compressed {
				c.fl.Advance(pm.data) // keep the takeover history what the peer holds
			}
		}
	}
	c.mu.Unlock()
	if err == nil {
		c.stats.msgsOut.Add(1)
	}
	return c.afterWrite(err)
}

// Broadcast sends pm to every open connection for which filter (nil: all) returns
// true, and returns how many took it. Each loop's connections are written by their
// own goroutine, so a broadcast uses every core; a slow consumer gets the
// WriteBufferPolicy, never a block.
func (s *Server) Broadcast(pm *PreparedMessage, filter func(*Conn) bool) int {
	return s.e.broadcast(pm, filter)
}

func (e *engine) broadcast(pm *PreparedMessage, filter func(*Conn) bool) int {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
	)
	send := func(list []*Conn) {
		n := 0
		for _, c := range list {
			if c.State() != StateOpen || (filter != nil && !filter(c)) {
				continue
			}
			if c.WritePrepared(pm) == nil {
				n++
			}
		}
		mu.Lock()
		total += n
		mu.Unlock()
	}
	for _, l := range e.loops {
		l.mu.Lock()
		list := make([]*Conn, 0, len(l.conns))
		for _, c := range l.conns {
			if c != nil {
				list = append(list, c)
			}
		}
		l.mu.Unlock()
		wg.Add(1)
		go func() { defer wg.Done(); send(list) }()
	}
	e.gmu.Lock()
	glist := make([]*Conn, 0, len(e.gconns))
	for c := range e.gconns {
		glist = append(glist, c)
	}
	e.gmu.Unlock()
	send(glist)
	wg.Wait()
	return total
}
