package w3c

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

// Options configure New. The zero value (or nil) dials with engine.Dial's
// defaults and no callbacks.
type Options struct {
	// Origin is sent as Origin (a browser sends its page's).
	Origin string
	// Header holds extra request fields (cookies, authorization...).
	Header http.Header
	// TLSConfig for wss (nil: the system roots).
	TLSConfig *tls.Config
	// HandshakeTimeout bounds the whole dial (0: engine.DialOptions' 10 s).
	HandshakeTimeout time.Duration
	// Compression offers permessage-deflate with these options (nil: no offer;
	// browsers offer it, weir asks you to opt in).
	Compression *deflate.Options
	// Client dials the connection (nil: engine.Dial's shared client).
	Client *engine.Client

	// Logger reports a callback's panic (nil: slog.Default()).
	Logger *slog.Logger

	// The callbacks (see the package documentation for when and where they
	// run). A callback that panics is reported to Logger with its stack, as
	// a browser reports a listener's exception, and the WebSocket goes on.
	OnOpen    func(Event)
	OnMessage func(MessageEvent)
	OnError   func(ErrorEvent)
	OnClose   func(CloseEvent)
}

// maxQueued and maxQueuedBytes (of messages' data) are how much may wait for
// the callbacks before the connection stops reading.
const (
	maxQueued      = 64
	maxQueuedBytes = 1 << 20
)

// WebSocket is one connection in the browser's shape. Its methods are safe from
// any goroutine.
type WebSocket struct {
	url       string
	o         Options
	protocols []string
	cancel    context.CancelFunc
	done      chan struct{}

	mu         sync.Mutex
	state      int
	conn       *engine.Conn
	protocol   string
	extensions string
	queue      []any // events from the engine for the event goroutine
	qbytes     int   // the size of queue's messages
	paused     bool  // the connection stopped reading because queue is full
	wake       chan struct{}
}

// New starts connecting to rawURL (ws, wss, http, https or
// ws+unix:/path:/resource), offering protocols, and returns at once, CONNECTING.
// An unusable URL or protocol list is an ErrSyntax.
func New(rawURL string, protocols []string, opts *Options) (*WebSocket, error) {
	if err := checkURL(rawURL); err != nil {
		return nil, err
	}
	if err := checkProtocols(protocols); err != nil {
		return nil, err
	}
	ws := &WebSocket{
		url: rawURL, protocols: append([]string(nil), protocols...),
		done: make(chan struct{}), wake: make(chan struct{}, 1),
	}
	if opts != nil {
		ws.o = *opts
	}
	ctx, cancel := context.WithCancel(context.Background())
	ws.cancel = cancel
	go ws.run(ctx)
	return ws, nil
}

// URL is the URL given to New.
func (ws *WebSocket) URL() string { return ws.url }

// ReadyState is Connecting, Open, Closing or Closed.
func (ws *WebSocket) ReadyState() int {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.state
}

// Protocol is the subprotocol the server chose ("" before OPEN, or none).
func (ws *WebSocket) Protocol() string {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.protocol
}

// Extensions is the server's Sec-WebSocket-Extensions ("" before OPEN, or none).
func (ws *WebSocket) Extensions() string {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.extensions
}

// BufferedAmount is the bytes sent but not yet taken by the socket.
func (ws *WebSocket) BufferedAmount() int {
	ws.mu.Lock()
	c := ws.conn
	ws.mu.Unlock()
	if c == nil {
		return 0
	}
	return c.BufferedAmount()
}

// BinaryType is "arraybuffer": binary messages arrive as []byte.
func (ws *WebSocket) BinaryType() string { return "arraybuffer" }

// SetBinaryType accepts "arraybuffer" only (ErrBinaryType), as WebSocket-Node's
// W3CWebSocket does; Go has no Blob.
func (ws *WebSocket) SetBinaryType(t string) error {
	if t != "arraybuffer" {
		return ErrBinaryType
	}
	return nil
}

// Done is closed once the close event has been dispatched.
func (ws *WebSocket) Done() <-chan struct{} { return ws.done }

// Send sends data: a string as a text message (invalid UTF-8 becomes U+FFFD, as
// a browser converts a string to a USVString), a []byte as a binary message.
// ErrInvalidState while CONNECTING, engine.ErrClosed once closing or closed.
func (ws *WebSocket) Send(data any) error {
	ws.mu.Lock()
	st, c := ws.state, ws.conn
	ws.mu.Unlock()
	switch {
	case st == Connecting:
		return ErrInvalidState
	case st != Open:
		return engine.ErrClosed
	}
	switch d := data.(type) {
	case string:
		return c.WriteText(strings.ToValidUTF8(d, "\uFFFD"))
	case []byte:
		return c.WriteBinary(d)
	}
	return ErrDataType
}

// Close starts the closing handshake with code and reason (code 0: none given;
// see the package documentation). While CONNECTING it abandons the handshake.
// Closing or closed already, it does nothing.
func (ws *WebSocket) Close(code int, reason string) error {
	switch {
	case code == 0 && reason != "":
		code = int(frame.StatusNormalClosure)
	case code != 0 && code != int(frame.StatusNormalClosure) && (code < 3000 || code > 4999):
		return ErrInvalidAccess
	}
	// The limit is on the reason's UTF-8 bytes (WHATWG close(): reasonBytes),
	// so on what is sent: a run of invalid bytes becomes U+FFFD, 3 bytes.
	// Checked on the raw string, a reason could pass here and be refused by
	// the engine after the state had moved to CLOSING: wedged, its
	// connection open.
	reason = strings.ToValidUTF8(reason, "\uFFFD")
	if len(reason) > frame.MaxCloseReason {
		return syntaxErr("close reason over %d bytes", frame.MaxCloseReason)
	}
	ws.mu.Lock()
	st, c := ws.state, ws.conn
	if st == Connecting || st == Open {
		ws.state = Closing
	}
	ws.mu.Unlock()
	switch st {
	case Connecting:
		ws.cancel() // the dial fails; run reports error and close (1006)
	case Open:
		return c.Close(frame.StatusCode(code), reason)
	}
	return nil
}

// checkURL is the browser constructor's URL check: a scheme weir dials, a host,
// no fragment.
func checkURL(rawURL string) error {
	if strings.HasPrefix(rawURL, "ws+unix:") {
		return nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return syntaxErr("%v", err)
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return syntaxErr("URL scheme %q (ws, wss, http, https)", u.Scheme)
	}
	if u.Host == "" {
		return syntaxErr("URL %q has no host", rawURL)
	}
	if u.Fragment != "" || strings.Contains(rawURL, "#") {
		return syntaxErr("URL %q has a fragment", rawURL)
	}
	return nil
}

// checkProtocols: each a token (RFC 6455 §4.1, RFC 7230 §3.2.6), none twice.
func checkProtocols(ps []string) error {
	seen := make(map[string]bool, len(ps))
	for _, p := range ps {
		if p == "" || strings.IndexFunc(p, func(r rune) bool { return !isTchar(r) }) >= 0 {
			return syntaxErr("protocol %q is not a token", p)
		}
		if seen[p] {
			return syntaxErr("protocol %q given twice", p)
		}
		seen[p] = true
	}
	return nil
}

func isTchar(r rune) bool {
	return r < 0x7f && (r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
		strings.ContainsRune("!#$%&'*+-.^_`|~", r))
}
