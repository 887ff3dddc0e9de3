package engine

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// TestProtocolViolations sends one bad input per rule and checks the close code the
// server sends, that it hangs up, and what OnClose reports.
func TestProtocolViolations(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 126)
	cases := []struct {
		name  string
		cfg   Config
		input [][]byte // written one by one with a pause between
		code  frame.StatusCode
		err   error
	}{
		{"unmasked client frame", Config{}, [][]byte{frameBytes(true, frame.OpText, 0, []byte("hi"), false)}, 1002, ErrUnmaskedFrame},
		{"rsv1 without extension", Config{}, [][]byte{frameBytes(true, frame.OpText, frame.Rsv1, []byte("hi"), true)}, 1002, ErrUnexpectedRSV},
		{"rsv2", Config{}, [][]byte{frameBytes(true, frame.OpBinary, frame.Rsv2, nil, true)}, 1002, ErrUnexpectedRSV},
		{"rsv3", Config{}, [][]byte{frameBytes(true, frame.OpBinary, frame.Rsv3, nil, true)}, 1002, ErrUnexpectedRSV},
		{"reserved data opcode 3", Config{}, [][]byte{frameBytes(true, 3, 0, nil, true)}, 1002, frame.ErrReservedOpcode},
		{"reserved control opcode 0xB", Config{}, [][]byte{frameBytes(true, 0xB, 0, nil, true)}, 1002, frame.ErrReservedOpcode},
		{"fragmented ping", Config{}, [][]byte{frameBytes(false, frame.OpPing, 0, nil, true)}, 1002, frame.ErrFragmentedControl},
		{"ping over 125 bytes", Config{}, [][]byte{frameBytes(true, frame.OpPing, 0, []byte(long), true)}, 1002, frame.ErrControlTooLong},
		{"continuation without start", Config{}, [][]byte{frameBytes(true, frame.OpContinuation, 0, []byte("x"), true)}, 1002, ErrUnexpectedContinuation},
		{"new message inside fragmented", Config{}, [][]byte{
			frameBytes(false, frame.OpText, 0, []byte("a"), true),
			frameBytes(true, frame.OpText, 0, []byte("b"), true)}, 1002, ErrExpectedContinuation},
		{"invalid utf8 single frame", Config{}, [][]byte{frameBytes(true, frame.OpText, 0, []byte{'a', 0xff}, true)}, 1007, ErrTextNotUTF8},
		{"invalid utf8 across fragments", Config{}, [][]byte{
			frameBytes(false, frame.OpText, 0, []byte{0xce}, true),
			frameBytes(true, frame.OpContinuation, 0, []byte{0x41}, true)}, 1007, ErrTextNotUTF8},
		{"truncated utf8 at message end", Config{}, [][]byte{
			frameBytes(false, frame.OpText, 0, []byte("ok"), true),
			frameBytes(true, frame.OpContinuation, 0, []byte{0xe2, 0x82}, true)}, 1007, ErrTextNotUTF8},
		{"close payload of one byte", Config{}, [][]byte{frameBytes(true, frame.OpClose, 0, []byte{3}, true)}, 1002, frame.ErrInvalidClosePayload},
		{"close code 1005 on the wire", Config{}, [][]byte{frameBytes(true, frame.OpClose, 0, []byte{0x03, 0xed}, true)}, 1002, frame.ErrInvalidCloseCode},
		{"close code 999", Config{}, [][]byte{frameBytes(true, frame.OpClose, 0, []byte{0x03, 0xe7}, true)}, 1002, frame.ErrInvalidCloseCode},
		{"close code 5000", Config{}, [][]byte{frameBytes(true, frame.OpClose, 0, []byte{0x13, 0x88}, true)}, 1002, frame.ErrInvalidCloseCode},
		{"close reason not utf8", Config{}, [][]byte{frameBytes(true, frame.OpClose, 0, []byte{0x03, 0xe8, 0xff}, true)}, 1007, frame.ErrInvalidUTF8},
		{"frame over the frame limit (header only)", Config{MaxFrameSize: 1000},
			[][]byte{frameBytes(true, frame.OpBinary, 0, make([]byte, 1001), true)[:8]}, 1009, ErrFrameTooBig},
		{"message over the limit across fragments", Config{MaxMessageSize: 1000}, [][]byte{
			frameBytes(false, frame.OpBinary, 0, make([]byte, 600), true),
			frameBytes(true, frame.OpContinuation, 0, make([]byte, 600), true)[:8]}, 1009, ErrMessageTooBig},
		{"too many fragments, empty ones counted", Config{MaxFragments: 3}, [][]byte{
			frameBytes(false, frame.OpBinary, 0, nil, true),
			frameBytes(false, frame.OpContinuation, 0, nil, true),
			frameBytes(false, frame.OpContinuation, 0, nil, true),
			frameBytes(false, frame.OpContinuation, 0, nil, true)}, 1008, ErrTooManyFragments},
		{"64-bit length with top bit set", Config{}, [][]byte{{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}}, 1002, frame.ErrLengthOverflow},
	}
	for _, tc := range cases {
		for _, m := range modes {
			t.Run(tc.name+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				cfg := m.cfg
				cfg.MaxFrameSize, cfg.MaxMessageSize, cfg.MaxFragments = tc.cfg.MaxFrameSize, tc.cfg.MaxMessageSize, tc.cfg.MaxFragments
				h := newEcho()
				_, addr := startServer(t, h, cfg, nil)
				rc := dialRaw(t, addr)
				for i, b := range tc.input {
					if i > 0 {
						time.Sleep(5 * time.Millisecond)
					}
					rc.nc.Write(b) // the server may have hung up already
				}
				rc.expectClose(tc.code)
				rc.expectEOF()
				r := h.waitClose(t)
				if r.code != tc.code || !errors.Is(r.err, tc.err) {
					t.Fatalf("OnClose = %d %v, want %d %v", r.code, r.err, tc.code, tc.err)
				}
				if CloseStatus(r.err) != tc.code {
					t.Fatalf("CloseStatus(%v) = %d, want %d", r.err, CloseStatus(r.err), tc.code)
				}
			})
		}
	}
}

// TestUTF8FailFast: invalid UTF-8 is detected as soon as the bad byte arrives, before
// the rest of the frame (Autobahn 6.4.x).
func TestUTF8FailFast(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		h := newEcho()
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		payload := append([]byte("valid prefix "), 0xf4, 0x90, 0x80, 0x80) // > U+10FFFF
		payload = append(payload, make([]byte, 1000)...)
		b := frameBytes(true, frame.OpText, 0, payload, true)
		// Send the header and the payload up to and including the bad bytes only.
		rc.write(b[:8+len("valid prefix ")+2]) // 8: header with a 16-bit length and a mask
		rc.expectClose(frame.StatusInvalidFramePayloadData)
		rc.expectEOF()
	})
}
