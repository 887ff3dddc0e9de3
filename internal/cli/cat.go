package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/upgrade"
)

// cat is "weir cat": an interactive WebSocket client in the manner of wscat.
// The first Ctrl-C closes the connection with 1000; a second one kills at once.
func cat(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop)
	err := runCat(ctx, args, os.Stdin, os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if errors.As(err, new(*catUsageError)) {
		os.Exit(2)
	}
	return err
}

// runCat is weir cat with its inputs and outputs passed in, so tests run it
// whole. It returns once the connection has ended and the client's engine is
// stopped; the goroutine reading stdin ends when a pending Read returns.
func runCat(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	o, err := parseCatFlags(args, stderr)
	if err != nil {
		return err
	}
	interactive := !o.quiet && len(o.execute) == 0 && isTerminal(stdin) && isTerminal(stdout)
	p := &catPrinter{out: stdout, errw: stderr, prompt: interactive}

	// A client engine of its own, rather than the process-wide one behind
	// engine.Dial: one loop is plenty, its keepalive pings would show up as pongs
	// (-ping is the user's to ask for), and Close stops its goroutines.
	cl, err := engine.NewClient(nil, &engine.Config{
		Loops: 1, Workers: 2, PingInterval: -1, CloseTimeout: o.closeTimeout,
		MaxMessageSize: o.maxMessage, DrainLowWater: catLowWater,
	})
	if err != nil {
		return err
	}
	defer cl.Close()

	h := newCatHandler(p, o)
	opts := &engine.DialOptions{
		Handler: h, Subprotocols: o.subprotocols, Origin: o.origin, Header: o.header,
		HandshakeTimeout: o.timeout, MaxRedirects: o.maxRedirects, Version: o.version,
	}
	if o.compress {
		opts.Compression = &deflate.Options{}
	}
	if o.insecure {
		opts.TLSConfig = &tls.Config{InsecureSkipVerify: true}
	}
	c, _, err := cl.Dial(ctx, o.url, opts)
	if err != nil {
		return catDialError(err)
	}

	if !o.quiet {
		p.notef("connected to %s%s", o.url, catConnDetails(c, interactive))
	}
	close(h.ready)
	s := &catSession{o: o, p: p, h: h, c: c, slash: o.slash || interactive}
	return s.run(ctx, stdin)
}

// catConnDetails describes what the handshake settled, for the connected notice.
func catConnDetails(c *engine.Conn, interactive bool) string {
	var d []string
	if sp := c.Subprotocol(); sp != "" {
		d = append(d, "subprotocol "+sp)
	}
	if _, ok := c.Compression(); ok {
		d = append(d, "permessage-deflate")
	}
	if interactive {
		d = append(d, "Ctrl-D or /close to close, /help for commands")
	}
	if len(d) == 0 {
		return ""
	}
	return " (" + strings.Join(d, ", ") + ")"
}

// catDialError adds the start of a refused handshake's body to its error when it says
// more than the status line; the *upgrade.HandshakeError stays in the chain.
func catDialError(err error) error {
	var he *upgrade.HandshakeError
	if !errors.As(err, &he) {
		return err
	}
	body := strings.TrimSpace(string(he.Body))
	if i := strings.IndexByte(body, '\n'); i >= 0 {
		body = body[:i]
	}
	if len(body) > 200 {
		body = body[:200] + "..."
	}
	if body == "" || strings.Contains(he.Error(), body) {
		return err
	}
	return fmt.Errorf("%w (%s)", err, body)
}

// isTerminal reports whether f is an *os.File on a character device: a terminal,
// as far as the standard library can tell without termios.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	st, err := file.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
