package engine

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
)

// noise returns n pseudo-random (incompressible) bytes from seed.
func noise(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return p
}

// TestCompressionRefusedWritesKeepHistory: with context takeover, a write refused
// by the write-buffer policy must not enter the compressor's history (RFC 7692
// §7.2.1: the peer's decompressor only ever sees what was sent). A later message
// identical to a refused one would otherwise be sent as back-references to bytes
// the peer never got, and arrive wrong without any error.
func TestCompressionRefusedWritesKeepHistory(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.Compression = &deflate.Options{Threshold: -1}
		cfg.MaxWriteBuffer = 64 << 10
		cfg.PingInterval = -1
		h := newBPHandler()
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr, "Sec-WebSocket-Extensions: permessage-deflate")
		if err := rc.nc.(*net.TCPConn).SetReadBuffer(256 << 10); err != nil {
			t.Fatal(err)
		}
		rc.nc.SetDeadline(time.Time{})
		c := h.conn(t)
		if _, ok := c.Compression(); !ok {
			t.Fatal("permessage-deflate not negotiated")
		}

		const size = 8 << 10
		var sent [][]byte
		seed := uint64(1)
		for ; ; seed++ {
			if seed == 1<<16 {
				t.Fatal("the socket never pushed back")
			}
			p := noise(seed, size)
			err := c.WriteBinary(p)
			if errors.Is(err, ErrWriteBufferFull) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			sent = append(sent, p)
		}
		// Many more writes, each a different message: mostly refused (the queue
		// may drain a little meanwhile, and then a write is taken).
		refused := []uint64{seed}
		for i := range 300 {
			s := seed + 1 + uint64(i)
			p := noise(s, size)
			switch err := c.WriteBinary(p); {
			case errors.Is(err, ErrWriteBufferFull):
				refused = append(refused, s)
			case err == nil:
				sent = append(sent, p)
			default:
				t.Fatalf("write %d: %v", i, err)
			}
		}
		if len(refused) < 100 {
			t.Fatalf("only %d writes refused", len(refused))
		}
		// The peer reads what was accepted; then messages equal to refused ones go
		// out, which a compressor that remembered them would send as references.
		z := deflate.NewConn(deflate.Params{}, false, nil)
		defer z.Release()
		rc.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
		read := func(want []byte, i int) {
			t.Helper()
			hd, p, err := rc.readFrame()
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if hd.Rsv == frame.Rsv1 {
				if p, err = z.Decompress(nil, p, 1<<20); err != nil {
					t.Fatalf("message %d does not inflate: %v", i, err)
				}
			}
			if !bytes.Equal(p, want) {
				t.Fatalf("message %d arrived with wrong bytes (%d bytes, want %d)", i, len(p), len(want))
			}
		}
		for i, p := range sent {
			read(p, i)
		}
		for i := range 5 {
			p := noise(refused[len(refused)-1-i], size)
			if err := c.WriteBinary(p); err != nil {
				t.Fatalf("write after the drain: %v", err)
			}
			read(p, len(sent)+i)
		}
	})
}
