package dial

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/upgrade"
)

const fuzzKey = "dGhlIHNhbXBsZSBub25jZQ==" // RFC 6455 §1.3's; its accept below

const fuzzOK = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"

// FuzzHandshake plays a hostile server: its answer arrives cut at the
// fuzzer's split points (a stream parser must not depend on where reads end).
// Handshake must return, never panic, and agree with ParseResponse,
// ValidateResponse and deflate's Accept run on the whole answer at once: it
// succeeds exactly when they do, its Head is what followed the header block
// (as far as it was read), and a refusal's body stays under the limit.
func FuzzHandshake(f *testing.F) {
	f.Add([]byte(fuzzOK+"\r\n\x81\x02hi"), []byte{3, 40})
	f.Add([]byte(fuzzOK+"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=9\r\n\r\n"), []byte{1, 1, 1})
	f.Add([]byte(fuzzOK+"Sec-WebSocket-Extensions: permessage-deflate; x=1\r\n\r\n"), []byte{})
	f.Add([]byte(fuzzOK+"Sec-WebSocket-Protocol: chat\r\n\r\n"), []byte{7})
	f.Add([]byte("HTTP/1.1 302 Found\r\nLocation: /x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"), []byte{5, 9})
	f.Add([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 99999999999\r\n\r\nno"), []byte{})
	f.Fuzz(func(t *testing.T, answer, splits []byte) {
		client, server := net.Pipe()
		go func() {
			defer server.Close()
			go io.Copy(io.Discard, server) // the request
			rest := answer
			for _, s := range splits {
				n := min(int(s), len(rest))
				if _, err := server.Write(rest[:n]); err != nil {
					return
				}
				rest = rest[n:]
			}
			server.Write(rest)
		}()
		key, _ := upgrade.ParseKey(fuzzKey)
		req := &upgrade.ClientRequest{Host: "example.com", Resource: "/", Key: key,
			Subprotocols: []string{"chat"}}
		comp := &deflate.Options{}
		req.Extensions = []upgrade.ExtensionOffer{comp.Offer()}
		r, err := Handshake(testCtx(t), client, req, comp)
		if r != nil {
			defer r.Conn.Close()
		}

		var resp upgrade.Response
		n, perr := upgrade.ParseResponse(answer, &resp, nil)
		want := perr
		if perr == nil {
			var res upgrade.ClientResult
			if res, want = upgrade.ValidateResponse(req, &resp); want == nil {
				_, _, want = comp.Accept(res.Extensions)
			}
		}
		switch {
		case want == upgrade.ErrNeedMore:
			if err == nil {
				t.Fatal("success on an unfinished header block")
			}
		case (err == nil) != (want == nil):
			t.Fatalf("Handshake: %v; whole answer: %v", err, want)
		case err == nil:
			if !bytes.HasPrefix(answer[n:], r.Head) {
				t.Fatalf("Head %q is not what followed the block", r.Head)
			}
		}
		var he *upgrade.HandshakeError
		if errors.As(err, &he) && len(he.Body) > upgrade.DefaultErrorBodyLimit {
			t.Fatalf("body of %d bytes", len(he.Body))
		}
	})
}
