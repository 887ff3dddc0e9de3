package engine

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

func TestDialEchoBlocking(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		h := newEcho()
		_, addr := startServer(t, h, cfg, &upgrade.Upgrader{Subprotocols: []string{"v2.push", "v1.push"}})
		cl, err := NewClient(nil, &cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, resp, err := cl.Dial(ctx, "ws://"+addr+"/chat", &DialOptions{Subprotocols: []string{"v1.push", "v2.push"}})
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols || c.Subprotocol() != "v2.push" {
			t.Fatalf("status %d subprotocol %q", resp.StatusCode, c.Subprotocol())
		}
		for _, n := range []int{0, 5, 125, 126, 70000, 1 << 20} {
			p := make([]byte, n)
			for i := range p {
				p[i] = byte(i)
			}
			orig := append([]byte(nil), p...)
			if err := c.WriteBinary(p); err != nil {
				t.Fatal(err)
			}
			mustEqual(t, p, orig) // the caller's buffer is never masked in place
			op, got, err := c.ReadMessage(ctx)
			if err != nil || op != frame.OpBinary {
				t.Fatalf("read: %v %v", op, err)
			}
			mustEqual(t, got, p)
		}
		if err := c.Close(frame.StatusNormalClosure, "bye"); err != nil {
			t.Fatal(err)
		}
		_, _, err = c.ReadMessage(ctx)
		var ce *CloseError
		if !errors.As(err, &ce) || ce.Code != frame.StatusNormalClosure {
			t.Fatalf("after close: %v", err)
		}
		if r := h.waitClose(t); r.code != frame.StatusNormalClosure || r.reason != "bye" {
			t.Fatalf("server OnClose = %d %q %v", r.code, r.reason, r.err)
		}
	})
}
