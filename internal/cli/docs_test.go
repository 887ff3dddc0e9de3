package cli

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsCommandLines: every `weir ...` command line the user docs show
// (README.md and docs/*.md: in sh code blocks and in inline code) names a
// command that exists, and its flags and their values parse with that
// command's own flag set, as they would when typed. Only the parsing is run:
// nothing listens or dials.
func TestDocsCommandLines(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{"../../README.md"}, files...)
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range docCommandLines(string(b)) {
			n++
			if err := parseDocCommand(c.args); err != nil {
				t.Errorf("%s:%d: %q: %v", filepath.Base(f), c.line, c.text, err)
			}
		}
	}
	t.Logf("%d weir command lines checked", n)
	if n < 10 {
		t.Errorf("found %d weir command lines in the docs; the extraction is broken", n)
	}
}

type docCommand struct {
	line int
	text string
	args []string // after "weir": the command and its arguments
}

// weirCall matches a weir invocation: a command line that starts with weir
// (or a path ending in /weir, or go run of one: go run ./cmd/weir) followed by
// an argument.
var weirCall = regexp.MustCompile(`^\s*(?:go run\s+)?(?:\S*/)?weir\s+(\S.*)$`)

// docCommandLines returns the weir command lines of a markdown text: lines of
// sh code blocks, and inline code spans outside code blocks.
func docCommandLines(md string) []docCommand {
	var out []docCommand
	fence := "" // the open code block's info string; "" outside one
	in := false
	for i, line := range strings.Split(md, "\n") {
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "```") {
			if in {
				in = false
			} else {
				in, fence = true, strings.TrimPrefix(t, "```")
			}
			continue
		}
		var candidates []string
		switch {
		case in && (fence == "sh" || fence == "console" || fence == "bash"):
			candidates = []string{line}
		case in:
			continue
		default:
			parts := strings.Split(line, "`")
			for j := 1; j < len(parts); j += 2 {
				candidates = append(candidates, parts[j])
			}
		}
		for _, c := range candidates {
			m := weirCall.FindStringSubmatch(c)
			if m == nil {
				continue
			}
			out = append(out, docCommand{line: i + 1, text: strings.TrimSpace(c), args: shellWords(m[1])})
		}
	}
	return out
}

// shellWords splits s as sh would for a simple command: words separated by
// blanks, '...' and "..." quoting, ending at a comment or an operator.
func shellWords(s string) []string {
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				w.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case !inWord && strings.ContainsRune("#|&;<>", r):
			return words
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// parseDocCommand parses args (a command and its arguments) with the
// command's flag set. -h is fine; a command alone only has to exist.
func parseDocCommand(args []string) error {
	cmd, rest := args[0], args[1:]
	ok := func(err error) error {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	switch cmd {
	case "serve":
		fs, _ := newServeFlags(Hooks{}, flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		if err := fs.Parse(rest); err != nil {
			return ok(err)
		}
		if fs.NArg() > 0 {
			return errors.New("unexpected argument " + fs.Arg(0))
		}
		return nil
	case "cat":
		if len(rest) == 0 {
			return nil
		}
		_, err := parseCatFlags(rest, io.Discard)
		return ok(err)
	case "bench":
		if len(rest) == 0 {
			return nil
		}
		_, err := parseBenchFlags(rest, io.Discard)
		return ok(err)
	case "version":
		if versionMain(rest, io.Discard, io.Discard) != 0 {
			return errors.New("usage error")
		}
		return nil
	}
	return errors.New("no such command: " + cmd)
}

// TestDocCommandChecker: the check above finds and fails what it should.
func TestDocCommandChecker(t *testing.T) {
	t.Parallel()
	md := "Run\n\n```sh\nweir bench -c 10 -nosuch 1 ws://127.0.0.1:1/  # a comment\n" +
		"go run ./cmd/weir serve -addr :0 -nats nats://a:4222,nats://b:4222\n```\n\n" +
		"```go\nweir cat -bogus\n```\n\n" +
		"then `weir serv -addr x`, `weir cat -x '{\"a\": 1}' -s chat.v1 ws://h/`, `weir version` and `weir_connections`.\n"
	tests := []struct {
		text    string
		args    []string
		wantErr bool
	}{
		{"weir bench -c 10 -nosuch 1 ws://127.0.0.1:1/  # a comment", []string{"bench", "-c", "10", "-nosuch", "1", "ws://127.0.0.1:1/"}, true},
		{"go run ./cmd/weir serve -addr :0 -nats nats://a:4222,nats://b:4222", []string{"serve", "-addr", ":0", "-nats", "nats://a:4222,nats://b:4222"}, false},
		{"weir serv -addr x", []string{"serv", "-addr", "x"}, true},
		{`weir cat -x '{"a": 1}' -s chat.v1 ws://h/`, []string{"cat", "-x", `{"a": 1}`, "-s", "chat.v1", "ws://h/"}, false},
		{"weir version", []string{"version"}, false},
	}
	got := docCommandLines(md)
	if len(got) != len(tests) {
		t.Fatalf("found %d command lines, want %d: %q", len(got), len(tests), got)
	}
	for i, tt := range tests {
		g := got[i]
		if g.text != tt.text || strings.Join(g.args, "\x00") != strings.Join(tt.args, "\x00") {
			t.Errorf("line %d: %q %q, want %q %q", i, g.text, g.args, tt.text, tt.args)
		}
		if err := parseDocCommand(g.args); (err != nil) != tt.wantErr {
			t.Errorf("%q: error %v, want an error: %v", g.text, err, tt.wantErr)
		}
	}
}
