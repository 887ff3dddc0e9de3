package upgrade

import "testing"

func benchUpgrader() *Upgrader {
	return &Upgrader{
		Path:         "/chat",
		Subprotocols: []string{"v2.push", "v1.push"},
		Extensions:   pmdNegotiator{},
		Verify: func(r *Request, d *Decision) {
			if _, ok := r.Query("room"); !ok {
				d.Reject(400, "no room")
			}
			d.SetUserValue(pmdPlain)
		},
	}
}

// viewUpgrader is benchUpgrader whose hook reads through a []byte view and
// which declines extensions: the handshake path that copies nothing.
func viewUpgrader() *Upgrader {
	u := benchUpgrader()
	u.Extensions = nil
	u.Verify = func(r *Request, d *Decision) {
		if _, ok := r.QueryBytes("room"); !ok {
			d.Reject(400, "no room")
		}
		d.SetUserValue(pmdPlain)
	}
	return u
}

// BenchmarkServerHandshakeViews is BenchmarkServerHandshake with viewUpgrader.
func BenchmarkServerHandshakeViews(b *testing.B) { benchHandshake(b, viewUpgrader()) }

// BenchmarkServerHandshake scans a Chrome request, decides and appends the 101.
// Its hook reads a string and it negotiates extensions: one copy of the block.
func BenchmarkServerHandshake(b *testing.B) { benchHandshake(b, benchUpgrader()) }

// benchHandshake parses the Chrome request and answers it with u, per op.
func benchHandshake(b *testing.B, u *Upgrader) {
	buf := []byte(chromeRequest)
	req := NewRequest()
	out := make([]byte, 0, 512)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if _, err := u.Parse(buf, req); err != nil {
			b.Fatal(err)
		}
		var res Result
		out, res = u.Handshake(req, testPeer, out[:0], nil)
		if !res.Accepted() {
			b.Fatal(res.Err)
		}
	}
}

// BenchmarkParseRequestNeedMore measures one read of a half-received request,
// what a slow client costs per read.
func BenchmarkParseRequestNeedMore(b *testing.B) {
	buf := []byte(chromeRequest[:len(chromeRequest)/2])
	req := NewRequest()
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if _, err := ParseRequest(buf, req, nil); err != ErrNeedMore {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseResponse(b *testing.B) {
	creq := benchClientRequest(b)
	buf := []byte(serverResponse(b, creq))
	var resp Response
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if _, err := ParseResponse(buf, &resp, nil); err != nil {
			b.Fatal(err)
		}
		if _, err := ValidateResponse(creq, &resp); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClientRequestAppendTo(b *testing.B) {
	creq := benchClientRequest(b)
	out := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if out, err = creq.AppendTo(out[:0]); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(out)))
}

func BenchmarkAcceptKey(b *testing.B) {
	out := make([]byte, 0, 28)
	b.ReportAllocs()
	for b.Loop() {
		out = AppendAcceptKey(out[:0], "dGhlIHNhbXBsZSBub25jZQ==")
	}
}

func benchClientRequest(tb testing.TB) *ClientRequest {
	creq, err := NewClientRequest("ws://user:secret@example.com:8080/chat?room=lobby")
	if err != nil {
		tb.Fatal(err)
	}
	creq.Origin = "http://example.com:8080"
	creq.Subprotocols = []string{"v2.push", "v1.push"}
	creq.Extensions = []ExtensionOffer{{Name: "permessage-deflate", Params: []ExtensionParam{{Name: "client_max_window_bits"}}}}
	return creq
}

// serverResponse runs creq through benchUpgrader and returns the 101.
func serverResponse(tb testing.TB, creq *ClientRequest) string {
	raw, err := creq.AppendTo(nil)
	if err != nil {
		tb.Fatal(err)
	}
	out, res := handshake(tb, benchUpgrader(), string(raw))
	if !res.Accepted() {
		tb.Fatalf("not accepted: %v\n%s", res.Err, out)
	}
	return out
}
