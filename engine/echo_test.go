package engine

import (
	"bytes"
	"testing"

	"github.com/weir-ws/weir/frame"
)

func TestEchoSizes(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		h := newEcho()
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		for _, n := range []int{0, 1, 125, 126, 65535, 65536, 1 << 20} {
			for _, op := range []frame.Opcode{frame.OpText, frame.OpBinary} {
				p := bytes.Repeat([]byte("abcdefgh"), n/8+1)[:n]
				rc.send(true, op, p)
				gotOp, got := rc.readMessage()
				if gotOp != op {
					t.Fatalf("size %d: opcode %v, want %v", n, gotOp, op)
				}
				mustEqual(t, got, p)
			}
		}
		rc.send(true, frame.OpClose, []byte{0x03, 0xe8, 'b', 'y', 'e'})
		rc.expectClose(frame.StatusNormalClosure)
		rc.expectEOF()
		r := h.waitClose(t)
		if r.code != frame.StatusNormalClosure || r.reason != "bye" || r.err != nil {
			t.Fatalf("OnClose = %d %q %v", r.code, r.reason, r.err)
		}
	})
}
