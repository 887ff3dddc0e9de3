package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
)

// jsonish is compressible text like a push payload.
func jsonish(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"topic":"prices.eur","price":%d.%02d,"note":"héllo ✓"},`, i, 100+i%7, i%100)
	}
	return b.Bytes()[:n]
}

func TestCompressionEcho(t *testing.T) {
	t.Parallel()
	opts := []struct {
		name     string
		srv, cli deflate.Options
	}{
		{"takeover", deflate.Options{}, deflate.Options{}},
		{"no takeover", deflate.Options{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, deflate.Options{}},
		{"client asks no takeover", deflate.Options{}, deflate.Options{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
		{"small windows", deflate.Options{ClientMaxWindowBits: 10, ServerMaxWindowBits: 10}, deflate.Options{ServerMaxWindowBits: 9}},
	}
	for _, o := range opts {
		t.Run(o.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				srvOpts, cliOpts := o.srv, o.cli
				scfg := cfg
				scfg.Compression = &srvOpts
				scfg.WriteFragmentSize = 50000 // the server's compressed echoes come fragmented
				h := newEcho()
				_, addr := startServer(t, h, scfg, nil)
				cl, err := NewClient(nil, &cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer cl.Close()
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				c, resp, err := cl.Dial(ctx, "ws://"+addr+"/", &DialOptions{Compression: &cliOpts})
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := c.Compression(); !ok {
					t.Fatalf("not negotiated; response extensions %q", resp.Header.Get("Sec-WebSocket-Extensions"))
				}
				for _, n := range []int{0, 1, 200, 1 << 10, 64 << 10, 1 << 20} {
					for _, op := range []frame.Opcode{frame.OpText, frame.OpBinary} {
						p := jsonish(n)
						if err := c.WriteMessage(op, p); err != nil {
							t.Fatal(err)
						}
						gop, got, err := c.ReadMessage(ctx)
						if err != nil || gop != op {
							t.Fatalf("size %d: %v %v", n, gop, err)
						}
						mustEqual(t, got, p)
					}
				}
				st := c.Stats()
				if st.BytesOut >= 2*(1<<20+64<<10) {
					t.Fatalf("sent %d bytes for about %d bytes of compressible payload: not compressed", st.BytesOut, 2*(1<<20+64<<10))
				}
				c.Close(frame.StatusNormalClosure, "")
			})
		})
	}
}

// compressedHello is the RFC 7692 §7.2.3.1 example: "Hello" compressed.
var compressedHello = []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}

func TestCompressionRaw(t *testing.T) {
	t.Parallel()
	offer := "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"
	t.Run("rfc example echoed compressed", func(t *testing.T) {
		t.Parallel()
		forModes(t, func(t *testing.T, cfg Config) {
			cfg.Compression = &deflate.Options{Threshold: -1, ServerNoContextTakeover: true}
			_, addr := startServer(t, newEcho(), cfg, nil)
			rc := dialRaw(t, addr, offer)
			rc.write(frameBytes(true, frame.OpText, frame.Rsv1, compressedHello, true))
			h, p, err := rc.readFrame()
			if err != nil || h.Rsv != frame.Rsv1 || h.Opcode != frame.OpText {
				t.Fatalf("echo: rsv %x op %v err %v", h.Rsv, h.Opcode, err)
			}
			got, err := deflate.Decompress(nil, p, 1<<20)
			if err != nil || string(got) != "Hello" {
				t.Fatalf("echo inflates to %q, %v", got, err)
			}
		})
	})
	t.Run("under the threshold goes uncompressed", func(t *testing.T) {
		t.Parallel()
		cfg := Config{Compression: &deflate.Options{Threshold: 100}}
		_, addr := startServer(t, newEcho(), cfg, nil)
		rc := dialRaw(t, addr, offer)
		rc.write(frameBytes(true, frame.OpText, frame.Rsv1, compressedHello, true))
		h, p, _ := rc.readFrame()
		if h.Rsv != 0 || string(p) != "Hello" {
			t.Fatalf("rsv %x payload %q", h.Rsv, p)
		}
	})
	bad := []struct {
		name  string
		cfg   Config
		input []byte
		code  frame.StatusCode
		err   error
	}{
		{"rsv1 on a continuation", Config{}, append(frameBytes(false, frame.OpText, frame.Rsv1, compressedHello[:3], true),
			frameBytes(true, frame.OpContinuation, frame.Rsv1, compressedHello[3:], true)...), 1002, ErrUnexpectedRSV},
		{"rsv1 on a ping", Config{}, frameBytes(true, frame.OpPing, frame.Rsv1, nil, true), 1002, ErrUnexpectedRSV},
		{"rsv2 with deflate", Config{}, frameBytes(true, frame.OpText, frame.Rsv2, compressedHello, true), 1002, ErrUnexpectedRSV},
		{"corrupt deflate data", Config{}, frameBytes(true, frame.OpBinary, frame.Rsv1, []byte{0xff, 0xff, 0xff, 0xff}, true), 1007, deflate.ErrCorrupt},
		{"bomb past the message limit", Config{MaxMessageSize: 64 << 10}, frameBytes(true, frame.OpBinary, frame.Rsv1, bomb(t, 10<<20), true), 1009, deflate.ErrMessageTooBig},
		{"compressed text not utf8", Config{}, frameBytes(true, frame.OpText, frame.Rsv1, mustCompress(t, []byte{'a', 0xff}), true), 1007, ErrTextNotUTF8},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				cfg.MaxMessageSize = tc.cfg.MaxMessageSize
				cfg.Compression = &deflate.Options{}
				h := newEcho()
				_, addr := startServer(t, h, cfg, nil)
				rc := dialRaw(t, addr, offer)
				rc.nc.Write(tc.input)
				rc.expectClose(tc.code)
				rc.expectEOF()
				if r := h.waitClose(t); r.code != tc.code || !errors.Is(r.err, tc.err) {
					t.Fatalf("OnClose = %d %v, want %d %v", r.code, r.err, tc.code, tc.err)
				}
			})
		})
	}
}

// bomb compresses n zero bytes: a few KiB that inflate to n.
func bomb(t testing.TB, n int) []byte {
	return mustCompress(t, make([]byte, n))
}

func mustCompress(t testing.TB, p []byte) []byte {
	t.Helper()
	z, err := deflate.Compress(nil, p, 15, nil)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), z...)
}

// TestCompressionPreparedAndSwitch: a prepared message reaches compressed and plain
// connections alike (compressed once per window size), and EnableWriteCompression
// turns compression off per connection.
func TestCompressionPreparedAndSwitch(t *testing.T) {
	t.Parallel()
	forLoopModes(t, func(t *testing.T, cfg Config) {
		cfg.Compression = &deflate.Options{}
		h := newOpenHandler()
		s, addr := startServer(t, h, cfg, nil)
		zc := dialRaw(t, addr, "Sec-WebSocket-Extensions: permessage-deflate")
		zconn := h.conn(t)
		pc := dialRaw(t, addr)
		h.conn(t)
		msg := []byte(strings.Repeat("broadcast payload ", 100))
		pm := NewPreparedMessage(frame.OpText, msg)
		if n := s.Broadcast(pm, nil); n != 2 {
			t.Fatalf("Broadcast reached %d connections", n)
		}
		hd, p, _ := zc.readFrame()
		if hd.Rsv != frame.Rsv1 {
			t.Fatal("the compressed connection got the message uncompressed")
		}
		if got, err := deflate.Decompress(nil, p, 1<<20); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("inflated %d bytes, %v", len(got), err)
		}
		if hd, p, _ := pc.readFrame(); hd.Rsv != 0 || !bytes.Equal(p, msg) {
			t.Fatal("the plain connection did not get the plain message")
		}
		// With takeover the history must follow the prepared message: a second
		// message must inflate with the same window.
		zconn.WriteMessage(frame.OpText, msg)
		hd, p, _ = zc.readFrame()
		if hd.Rsv != frame.Rsv1 || len(p) >= len(msg)/2 {
			t.Fatalf("second message rsv %x, %d bytes", hd.Rsv, len(p))
		}
		zconn.EnableWriteCompression(false)
		zconn.WriteMessage(frame.OpText, msg)
		if hd, p, _ := zc.readFrame(); hd.Rsv != 0 || !bytes.Equal(p, msg) {
			t.Fatal("EnableWriteCompression(false) still compressed")
		}
	})
}
