package cli

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A server's bytes reach a person's terminal: in an interactive session a
// received message, and any error line, show control characters as escapes
// instead of handing them to the terminal, where ESC and C1 sequences can
// rewrite the screen, set the clipboard (OSC 52), retitle the window or, on
// some terminals, make it answer into weir cat's own stdin (sent on as a
// message). Tab and the message's own newlines stay; plain output (a pipe,
// -quiet) is the server's bytes as they came.
func TestCatPrinterEscapesControls(t *testing.T) {
	t.Parallel()
	msg := "a\x1b]52;c;ZXZpbA==\x07b\r\u009b31m\tc\nd\x7f"
	tests := []struct {
		prompt  bool
		wantOut string
	}{
		{prompt: false, wantOut: msg + "\n"},
		{prompt: true, wantOut: "\r\x1b[K< a\\x1b]52;c;ZXZpbA==\\x07b\\x0d\\u009b31m\tc\nd\\x7f\n> "},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		p := &catPrinter{out: &out, errw: io.Discard, prompt: tt.prompt}
		p.message(msg)
		if out.String() != tt.wantOut {
			t.Errorf("prompt %v: out %q, want %q", tt.prompt, &out, tt.wantOut)
		}
	}
	// Raw binary (-binary-format raw) may hold any byte, UTF-8 or not.
	var out bytes.Buffer
	(&catPrinter{out: &out, errw: io.Discard, prompt: true}).message("\xff\x1b\x9b")
	if want := "\r\x1b[K< \\xff\\x1b\\x9b\n> "; out.String() != want {
		t.Errorf("raw bytes: out %q, want %q", &out, want)
	}
}

// A refused handshake's body (its first line) goes into the error line weir
// prints on stderr, a terminal as often as not. (upgrade refuses control
// characters in the head itself: a malformed response.)
func TestErrorLineEscapesControls(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				if _, err := http.ReadRequest(bufio.NewReader(nc)); err != nil {
					return
				}
				body := "no \x1b]0;owned\x07 \x1b[2J way\n"
				io.WriteString(nc, "HTTP/1.1 403 Forbidden\r\nX-WebSocket-Reject-Reason: go away\r\n"+
					"Content-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
			}()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = runCat(ctx, []string{ln.Addr().String()}, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil {
		t.Fatal("the refused handshake was no error")
	}
	line := errorLine(err)
	if strings.ContainsAny(line, "\x1b\x07") || !strings.Contains(line, "403") {
		t.Fatalf("error line %q: want the 403 without raw control characters", line)
	}
}
