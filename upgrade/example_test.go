package upgrade_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// These examples run an engine.Server (which does the handshake with an
// Upgrader) on 127.0.0.1 and dial it; go test checks their output.

// session is what the verify hook learns about a connection.
type session struct{ user string }

// greeter greets each connection by the user its verify hook attached.
type greeter struct{ engine.NopHandler }

func (greeter) OnOpen(c *engine.Conn) {
	s := c.UserData().(*session) // set by the verify hook
	c.WriteText("hello " + s.user)
}

// The verify hook decides on each handshake and attaches per-connection data:
// d.SetUserValue's value is the connection's c.UserData() from OnOpen on.
// Whatever the hook rejects never reaches the Handler.
func ExampleUpgrader_verify() {
	u := &upgrade.Upgrader{
		Verify: func(r *upgrade.Request, d *upgrade.Decision) {
			user, ok := r.Query("user")
			if !ok || user == "" {
				d.Reject(http.StatusUnauthorized, "who are you?")
				return
			}
			d.SetUserValue(&session{user: user})
		},
	}
	srv, err := engine.NewServer(greeter{}, nil, u)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.Listen("127.0.0.1:0")
	url := "ws://" + srv.Addr().String() + "/chat"

	ctx := context.Background()
	c, _, err := engine.Dial(ctx, url+"?user=ada", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(frame.StatusNormalClosure, "")
	_, msg, _ := c.ReadMessage(ctx)
	fmt.Println(string(msg))

	_, _, err = engine.Dial(ctx, url, nil)
	var he *upgrade.HandshakeError
	if errors.As(err, &he) {
		fmt.Println(he.Status, he.Reason)
	}
	// Output:
	// hello ada
	// 401 who are you?
}

// tokens stands in for the application's session store.
var tokens = map[string]string{"c00kie": "ada", "qu3ry": "grace", "pr0t0": "linus"}

// token finds a browser client's credential. A browser's WebSocket cannot set
// request headers (no Authorization), so the usual places are:
//
//  1. a cookie the page's origin set at login (sent on the handshake like on
//     any request to that host; check Origin too, which the Upgrader does by
//     default: same host only);
//  2. the query, ?token=...: a short-lived, single-use ticket fetched just
//     before connecting, since URLs end up in logs and histories;
//  3. Sec-WebSocket-Protocol: new WebSocket(url, ["chat.v1", "token." + t]).
//     The server must answer with a real subprotocol (here Subprotocols picks
//     chat.v1), never echo the token; a token there must be an HTTP token
//     (base64url without '=' padding).
func token(r *upgrade.Request) (string, bool) {
	if t, ok := r.Cookie("session"); ok {
		return t, true
	}
	if t, ok := r.Query("token"); ok {
		return t, true
	}
	for _, p := range r.Subprotocols() {
		if t, ok := strings.CutPrefix(p, "token."); ok {
			return t, true
		}
	}
	return "", false
}

// Browser authentication: the token in a cookie, in the query, or in
// Sec-WebSocket-Protocol, looked up in the verify hook.
func ExampleUpgrader_browserAuth() {
	u := &upgrade.Upgrader{
		Subprotocols: []string{"chat.v1"},
		Verify: func(r *upgrade.Request, d *upgrade.Decision) {
			t, _ := token(r)
			user, ok := tokens[t]
			if !ok {
				d.Reject(http.StatusUnauthorized, "log in first")
				return
			}
			d.SetUserValue(&session{user: user})
		},
	}
	srv, err := engine.NewServer(greeter{}, nil, u)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.Listen("127.0.0.1:0")
	url := "ws://" + srv.Addr().String() + "/"

	ctx := context.Background()
	dial := func(query string, opts *engine.DialOptions) {
		c, _, err := engine.Dial(ctx, url+query, opts)
		if err != nil {
			fmt.Println(err.(*upgrade.HandshakeError).Status)
			return
		}
		defer c.Close(frame.StatusNormalClosure, "")
		_, msg, _ := c.ReadMessage(ctx)
		fmt.Printf("%s (subprotocol %q)\n", msg, c.Subprotocol())
	}
	dial("", &engine.DialOptions{Header: http.Header{"Cookie": {"session=c00kie"}}})
	dial("?token=qu3ry", nil)
	dial("", &engine.DialOptions{Subprotocols: []string{"chat.v1", "token.pr0t0"}})
	dial("?token=wrong", nil)
	// Output:
	// hello ada (subprotocol "")
	// hello grace (subprotocol "")
	// hello linus (subprotocol "chat.v1")
	// 401
}

// lookupSession stands in for a database or an auth service: slow, so it must
// not run on the engine worker that calls the verify hook.
func lookupSession(ctx context.Context, token string) (string, error) {
	select {
	case <-time.After(10 * time.Millisecond):
	case <-ctx.Done(): // the client left or the handshake timed out
		return "", ctx.Err()
	}
	if user, ok := tokens[token]; ok {
		return user, nil
	}
	return "", errors.New("no such session")
}

// A verify hook that must wait (a database, an auth service) defers: the
// Handle owns a copy of the request, and Accept or Reject answers from any
// goroutine. The worker meanwhile serves other connections.
func ExampleDecision_Defer() {
	u := &upgrade.Upgrader{
		Verify: func(r *upgrade.Request, d *upgrade.Decision) {
			h := d.Defer()
			go func() {
				t, _ := h.Request().Query("token")
				user, err := lookupSession(h.Context(), t)
				if err != nil {
					h.Reject(http.StatusUnauthorized, "log in first", nil)
					return
				}
				h.Accept(upgrade.Acceptance{UserValue: &session{user: user}})
			}()
		},
	}
	srv, err := engine.NewServer(greeter{}, nil, u)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.Listen("127.0.0.1:0")
	url := "ws://" + srv.Addr().String() + "/"

	ctx := context.Background()
	c, _, err := engine.Dial(ctx, url+"?token=qu3ry", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(frame.StatusNormalClosure, "")
	_, msg, _ := c.ReadMessage(ctx)
	fmt.Println(string(msg))
	_, _, err = engine.Dial(ctx, url+"?token=expired", nil)
	fmt.Println(err.(*upgrade.HandshakeError).Status)
	// Output:
	// hello grace
	// 401
}
