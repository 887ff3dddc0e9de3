package cli

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/weir-ws/weir/frame"
)

// catOptions are the parsed flags and URL of weir cat.
type catOptions struct {
	url          string
	header       http.Header
	origin       string
	subprotocols []string
	compress     bool
	insecure     bool
	timeout      time.Duration
	closeTimeout time.Duration
	execute      []string
	wait         time.Duration
	ping         time.Duration
	binary       bool
	binaryFormat string
	showPingPong bool
	closeCode    frame.StatusCode
	closeReason  string
	quiet        bool
	slash        bool
	maxMessage   int64
	maxRedirects int
	version      int
}

// catUsageError is a command line weir cat cannot run with; cat exits 2 for it, as
// the flag package does, after the message and the usage have been printed.
type catUsageError struct{ err error }

func (e *catUsageError) Error() string { return "cat: " + e.err.Error() }
func (e *catUsageError) Unwrap() error { return e.err }

// Binary message formats for -binary-format.
const (
	catFormatHex    = "hex"
	catFormatBase64 = "base64"
	catFormatSize   = "size"
	catFormatRaw    = "raw"
)

const catUsageHead = `usage: weir cat [flags] URL

Connects to URL (ws://, wss://, ws+unix:/path/to.sock:/resource; a URL without
a scheme gets ws://), sends every line of stdin as a text message and prints
every message received on stdout, one per line: text as is, binary as
-binary-format says. Notices, pings, pongs and errors go to stderr.

When stdin and stdout are a terminal (and without -quiet) the session is
interactive: a "> " prompt, received messages as "< message", and slash
commands. Otherwise the output is plain, for scripts. At the end of stdin weir
cat sends a close frame (-close-code, -close-reason), waits for the server's
(at most -close-timeout), and exits. It exits 0 when the server's close frame
has 1000, 1001, no status code, or echoes the code weir cat sent; otherwise 1
with the close code and reason (a server that rejected the last message with
1003 as stdin ended, a close that timed out), or the HTTP status of a refused
handshake.

Slash commands (interactive, or with -slash):
  /ping [payload]          send a ping; the pong's round trip is printed
  /pong [payload]          send an unsolicited pong
  /close [code [reason]]   start the closing handshake (default 1000) and exit
  /binary text             send text as a binary message
  /text text               send text as a text message (with -binary)
  /help                    list the commands
  //text                   send "/text": a leading "//" escapes the slash

Flags (flags may also follow the URL):
`

// parseCatFlags parses weir cat's command line. Errors are *catUsageError, or
// flag.ErrHelp after -h; the message and usage are already on stderr.
func parseCatFlags(args []string, stderr io.Writer) (*catOptions, error) {
	o := &catOptions{header: http.Header{}}
	var headerOrigin, auth string
	var closeCode uint
	fs := flag.NewFlagSet("cat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), catUsageHead)
		fs.PrintDefaults()
	}
	hdr := catHeaderFlag{h: o.header, origin: &headerOrigin}
	fs.Var(hdr, "H", "add a request `header` \"Name: value\" (repeatable)")
	fs.Var(hdr, "header", "same as -H")
	subs := (*catListFlag)(&o.subprotocols)
	fs.Var(subs, "s", "`subprotocol` to offer (repeatable or comma-separated)")
	fs.Var(subs, "subprotocol", "same as -s")
	fs.StringVar(&o.origin, "o", "", "`origin` to send as Origin")
	fs.StringVar(&o.origin, "origin", "", "same as -o")
	fs.StringVar(&auth, "auth", "", "`user:pass` sent as basic authorization")
	fs.BoolVar(&o.compress, "compress", false, "offer permessage-deflate (RFC 7692)")
	fs.BoolVar(&o.insecure, "insecure", false, "do not verify the server's TLS certificate (wss)")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "bound on the opening handshake, TCP and TLS included")
	fs.DurationVar(&o.closeTimeout, "close-timeout", 2*time.Second, "how long to wait for the server's close frame after sending one")
	exec := (*catStringsFlag)(&o.execute)
	fs.Var(exec, "x", "send this `message` (repeatable; stdin is not read), print the first reply, close and exit")
	fs.Var(exec, "execute", "same as -x")
	fs.DurationVar(&o.wait, "wait", 0, "with -x: print every reply for this long instead of the first only")
	fs.DurationVar(&o.ping, "ping", 0, "send a ping this often and print each pong's round trip (0: never)")
	fs.BoolVar(&o.binary, "binary", false, "send stdin lines (and -x messages) as binary messages")
	fs.StringVar(&o.binaryFormat, "binary-format", catFormatHex,
		"how to print a received binary message: hex, base64, size (<binary N bytes>) or raw bytes")
	fs.BoolVar(&o.showPingPong, "show-ping-pong", false, "print the pings and pongs received (pongs to -ping and /ping always are)")
	fs.UintVar(&closeCode, "close-code", uint(frame.StatusNormalClosure), "close code sent at the end of stdin")
	fs.StringVar(&o.closeReason, "close-reason", "", "close reason sent at the end of stdin (at most 123 bytes)")
	fs.BoolVar(&o.quiet, "quiet", false, "plain output even on a terminal: no prompt, no prefixes, no notices")
	fs.BoolVar(&o.slash, "slash", false, "obey slash commands on stdin even when it is not a terminal")
	fs.Int64Var(&o.maxMessage, "max-message", 16<<20, "largest message accepted, bytes (over it: close 1009)")
	fs.IntVar(&o.maxRedirects, "max-redirects", 0, "follow up to this many HTTP redirects")
	fs.IntVar(&o.version, "protocol-version", 13, "WebSocket protocol version: 13, or 8 for HyBi-08 servers")

	// The flag package stops at the first argument that is not a flag; parse what
	// follows the URL too, as wscat allows "wscat -c URL -x msg".
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &catUsageError{err}
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	fail := func(format string, a ...any) (*catOptions, error) {
		err := fmt.Errorf(format, a...)
		fmt.Fprintln(stderr, "weir cat:", err)
		fs.Usage()
		return nil, &catUsageError{err}
	}
	if len(rest) != 1 {
		return fail("want one URL, got %d arguments", len(rest))
	}
	o.url = rest[0]
	if !strings.Contains(o.url, "://") && !strings.HasPrefix(o.url, "ws+unix:") {
		o.url = "ws://" + o.url
	}
	if o.origin == "" {
		o.origin = headerOrigin
	}
	if auth != "" {
		if !strings.Contains(auth, ":") {
			return fail("-auth wants user:pass")
		}
		o.header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(auth)))
	}
	o.closeCode = frame.StatusCode(closeCode)
	if closeCode > 0xffff || !o.closeCode.IsValidOnWire() {
		return fail("-close-code %d may not be sent in a close frame (RFC 6455 §7.4)", closeCode)
	}
	if len(o.closeReason) > frame.MaxCloseReason {
		return fail("-close-reason is over %d bytes", frame.MaxCloseReason)
	}
	switch o.binaryFormat {
	case catFormatHex, catFormatBase64, catFormatSize, catFormatRaw:
	default:
		return fail("-binary-format %q: want hex, base64, size or raw", o.binaryFormat)
	}
	if o.version != 13 && o.version != 8 {
		return fail("-protocol-version %d: want 13 or 8", o.version)
	}
	if o.wait < 0 || o.ping < 0 || o.closeTimeout <= 0 {
		return fail("-wait, -ping and -close-timeout want a positive duration")
	}
	return o, nil
}

// catListFlag collects a repeatable, comma-separated list flag.
type catListFlag []string

func (l *catListFlag) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(*l, ",")
}

func (l *catListFlag) Set(s string) error {
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// catStringsFlag collects a repeatable flag, each value whole (a message may hold commas).
type catStringsFlag []string

func (l *catStringsFlag) String() string { return "" }

func (l *catStringsFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// catHeaderFlag adds "Name: value" arguments to a header. Origin is set by the
// handshake itself, so it is handed to DialOptions.Origin instead.
type catHeaderFlag struct {
	h      http.Header
	origin *string
}

func (f catHeaderFlag) String() string { return "" }

func (f catHeaderFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return errors.New(`want "Name: value"`)
	}
	value = strings.TrimSpace(value)
	if textproto.CanonicalMIMEHeaderKey(name) == "Origin" {
		*f.origin = value
		return nil
	}
	f.h.Add(name, value)
	return nil
}
