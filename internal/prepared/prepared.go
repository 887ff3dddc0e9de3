package prepared

import (
	"sync"

	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
)

// Message is a data message encoded once.
type Message struct {
	op      frame.Opcode
	payload []byte // the payload, as given (a copy)
	frame   []byte // header + payload, for server connections

	mu sync.Mutex
	z  [deflate.MaxWindowBits + 1][]byte // compressed frames by window size, made on first use
}

// New copies payload and encodes its frame once.
func New(op frame.Opcode, payload []byte) *Message {
	h := frame.Header{Fin: true, Opcode: op, Length: int64(len(payload))}
	b := frame.AppendHeader(make([]byte, 0, frame.HeaderSize(h)+len(payload)), h)
	b = append(b, payload...)
	return &Message{op: op, payload: b[len(b)-len(payload):], frame: b}
}

// Opcode is the message's opcode.
func (m *Message) Opcode() frame.Opcode { return m.op }

// Payload is the message's payload (do not modify it).
func (m *Message) Payload() []byte { return m.payload }

// Frame is the message as one unmasked, uncompressed frame (do not modify it).
func (m *Message) Frame() []byte { return m.frame }

// Compressed returns the message as one unmasked frame compressed for a window
// of wbits bits (RSV1 set, RFC 7692 §6), made on first use with opts.
func (m *Message) Compressed(wbits int, opts *deflate.Options) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f := m.z[wbits]; f != nil {
		return f, nil
	}
	z, err := deflate.Compress(nil, m.payload, wbits, opts)
	if err != nil {
		return nil, err
	}
	h := frame.Header{Fin: true, Rsv: frame.Rsv1, Opcode: m.op, Length: int64(len(z))}
	f := append(frame.AppendHeader(make([]byte, 0, frame.HeaderSize(h)+len(z)), h), z...)
	bufpool.Put(z)
	m.z[wbits] = f
	return f, nil
}
