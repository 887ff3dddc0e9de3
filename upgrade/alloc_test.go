package upgrade

import (
	"bytes"
	"io"
	"testing"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// TestZeroAllocs pins the hot paths at zero allocations; the benchmarks report
// the same numbers.
func TestZeroAllocs(t *testing.T) {
	u := viewUpgrader() // strings copy the block once (TestOwnCopiesOnce)
	buf := []byte(chromeRequest)
	req := NewRequest()
	out := make([]byte, 0, 1024)
	creq := benchClientRequest(t)
	resp101 := []byte(serverResponse(t, creq))
	var resp Response
	other := []byte(buildRequestConst)
	cases := []struct {
		name string
		fn   func()
	}{
		{"server handshake", func() {
			if _, err := u.Parse(buf, req); err != nil {
				t.Fatal(err)
			}
			var res Result
			if out, res = u.Handshake(req, testPeer, out[:0], nil); !res.Accepted() {
				t.Fatal(res.Err)
			}
		}},
		{"server rejection", func() {
			if _, err := u.Parse(other, req); err != nil {
				t.Fatal(err)
			}
			var res Result
			if out, res = u.Handshake(req, testPeer, out[:0], nil); res.Status != 404 {
				t.Fatal(res.Status)
			}
		}},
		{"need more", func() {
			if _, err := u.Parse(buf[:300], req); err != ErrNeedMore {
				t.Fatal(err)
			}
		}},
		{"response scan and validate", func() {
			if _, err := ParseResponse(resp101, &resp, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := ValidateResponse(creq, &resp); err != nil {
				t.Fatal(err)
			}
		}},
		{"request builder", func() {
			var err error
			if out, err = creq.AppendTo(out[:0]); err != nil {
				t.Fatal(err)
			}
		}},
		{"client ip and cookies", func() {
			_ = req.ClientIP()
			_, _ = req.Cookie("x")
			_, _ = req.Query("room")
		}},
	}
	for _, c := range cases {
		if n := testing.AllocsPerRun(100, c.fn); n != 0 {
			t.Errorf("%s: %v allocs per run", c.name, n)
		}
	}
}

// buildRequestConst is a valid handshake to a path benchUpgrader does not serve.
const buildRequestConst = "GET /elsewhere HTTP/1.1\r\nHost: example.com:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
