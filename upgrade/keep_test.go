package upgrade

import (
	"fmt"
	"strings"
	"testing"
)

// Strings a hook gets from a Request must never change: the engine scans every
// handshake of a worker in the same buffer, so a string that viewed it would
// later read another client's bytes (a verify hook keeping r.Query("user")
// gave connections each other's user IDs).
func TestKeptStringsSurviveBufferReuse(t *testing.T) {
	type kept struct {
		user, hdr, path, cookie, sub, ext, extParam, origin, host, query string
	}
	var got []kept
	u := &Upgrader{
		CheckOrigin:                 func(*Request) bool { return true },
		SubprotocolsCaseInsensitive: true,
		Subprotocols:                []string{"chat"},
		Extensions:                  pmdNegotiator{},
		Verify: func(r *Request, d *Decision) {
			var k kept
			k.user, _ = r.Query("user")
			k.hdr = r.Header("X-User")
			k.path = r.Path()
			k.cookie, _ = r.Cookie("sid")
			k.sub = r.Subprotocols()[0]
			k.ext = r.Extensions()[0].Name
			k.extParam, _ = r.Extensions()[0].Param("x")
			k.origin = r.Origin()
			k.host = r.Host()
			k.query = r.RawQuery()
			got = append(got, k)
		},
	}
	buf := make([]byte, 0, 1024) // one buffer for every handshake, as a worker's
	req := NewRequest()
	const n = 20
	var subs []string
	for i := range n {
		id := fmt.Sprintf("u%03d", i)
		raw := buildRequest("GET /p/"+id+"?user="+id+" HTTP/1.1", withField(withField(withField(withField(withField(validFields,
			"X-User: "+id), "Cookie: a=1; sid="+id), "Sec-WebSocket-Protocol: CHAT"+id[1:]+", chat"),
			"Sec-WebSocket-Extensions: ext"+id+"; x="+id), "Origin: http://"+id+".example")...)
		raw = strings.Replace(raw, "Host: server.example.com", "Host: h"+id, 1)
		buf = append(buf[:0], raw...)
		if _, err := u.Parse(buf, req); err != nil {
			t.Fatal(err)
		}
		_, res := u.Handshake(req, testPeer, nil, nil)
		if !res.Accepted() {
			t.Fatal(res.Err)
		}
		subs = append(subs, res.Subprotocol)
		clear(buf[:cap(buf)]) // the next read overwrites it
	}
	for i, k := range got {
		id := fmt.Sprintf("u%03d", i)
		want := kept{id, id, "/p/" + id, id, "CHAT" + id[1:], "ext" + id, id, "http://" + id + ".example", "h" + id, "user=" + id}
		if k != want {
			t.Errorf("handshake %d kept %+v, want %+v", i, k, want)
		}
		if subs[i] != "chat" {
			t.Errorf("handshake %d: Result.Subprotocol %q", i, subs[i])
		}
	}
}

// A hook that reads no string copies nothing; one that reads several copies
// the header block once.
func TestOwnCopiesOnce(t *testing.T) {
	u := &Upgrader{Verify: func(r *Request, d *Decision) {
		_, _ = r.Query("room")
		_ = r.Header("User-Agent")
		_, _ = r.Cookie("x")
		_ = r.Path()
	}}
	buf := []byte(chromeRequest)
	req := NewRequest()
	out := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() {
		if _, err := u.Parse(buf, req); err != nil {
			t.Fatal(err)
		}
		out, _ = u.Handshake(req, testPeer, out[:0], nil)
	}); n != 1 {
		t.Fatalf("%v allocs per handshake, want 1 (the copy)", n)
	}
}
