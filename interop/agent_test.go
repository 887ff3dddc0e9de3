package interop

import (
	"encoding/json"
	"strconv"
	"strings"
	"sync"
)

// goAgent is the echo agent of peers/agent.js for the Go libraries: the library
// adapter reads the connection and calls message and pong; the agent answers
// through the adapter's functions. All calls come from the adapter's one reading
// goroutine, which is also the only writer (the libraries need one writer).
type goAgent struct {
	lib, subprotocol string
	send             func(text bool, p []byte) error
	sendFragments    func(text bool, p []byte, n int) error // nil: unsupported
	ping             func(p []byte) error
	closeWith        func(code int, reason string) error
	fragSize         int
}

func (a *goAgent) reply(s string) error { return a.send(true, []byte(s)) }

// message handles one data message.
func (a *goAgent) message(text bool, p []byte) error {
	if text && strings.HasPrefix(string(p), "@@") {
		return a.command(string(p))
	}
	if a.fragSize > 0 && len(p) > a.fragSize {
		return a.sendFragments(text, p, a.fragSize)
	}
	return a.send(text, p)
}

func (a *goAgent) command(line string) error {
	verb, arg, _ := strings.Cut(line, " ")
	switch verb {
	case "@@close":
		codeStr, reason, _ := strings.Cut(arg, " ")
		code, _ := strconv.Atoi(codeStr)
		return a.closeWith(code, reason)
	case "@@ping":
		return a.ping([]byte(arg))
	case "@@frag":
		if a.sendFragments == nil {
			return a.reply("@@unsupported frag: " + a.lib + " has no API to send a fragmented message")
		}
		a.fragSize, _ = strconv.Atoi(arg)
		return a.reply("@@ok frag " + strconv.Itoa(a.fragSize))
	case "@@info":
		b, _ := json.Marshal(map[string]any{"lib": a.lib, "subprotocol": a.subprotocol, "version": 13})
		return a.reply("@@info " + string(b))
	}
	return a.reply("@@unsupported " + verb + ": unknown command")
}

func (a *goAgent) pong(p []byte) error { return a.reply("@@pong " + string(p)) }

func newReport(id, lib string) report { return report{ID: id, Lib: lib} }

// idFromQuery reads the ?id= of a request URI.
func idFromQuery(rawQuery string) string {
	for _, kv := range strings.Split(rawQuery, "&") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == "id" {
			return v
		}
	}
	return ""
}

// goClient runs dial commands on goroutines (the in-process client peers).
type goClient struct {
	box  mailbox
	wg   sync.WaitGroup
	conn func(cmd dialCmd) report
}

func (g *goClient) dial(cmd dialCmd) <-chan report {
	ch := g.box.box(cmd.ID)
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		g.box.put(g.conn(cmd))
	}()
	return ch
}

func (g *goClient) close() { g.wg.Wait() }
