package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDemoChromium runs `weir serve` (the binary, built from ../cmd/weir) and
// drives its chat page in headless Chromium (peers/chromium/demo.js): two tabs
// each send a message through the UI, and each tab's log must show both. It is
// not part of the conformance matrix and records nothing for docs/conformance.md.
func TestDemoChromium(t *testing.T) {
	needChromium(t)
	t.Parallel()

	bin := buildWeir(t)
	base := startWeirServe(t, bin)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "peers/chromium/demo.js", base)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("demo.js: %v\n%s", err, stderr.String())
	}
	var res struct {
		Version string
		Waits   []string
		Pages   []struct {
			Who      string
			Messages []struct{ Name, Text string }
			Online   string
			Input    string
			Errors   []string
		}
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("demo.js output: %v\n%s\n%s", err, out, stderr.String())
	}
	for _, w := range res.Waits {
		t.Errorf("timed out: %s", w)
	}
	if len(res.Pages) != 2 {
		t.Fatalf("%d tabs reported, want 2: %s", len(res.Pages), out)
	}
	want := []string{"ada: hello from ada", "bob: hi from bob"}
	for _, p := range res.Pages {
		var got []string
		for _, m := range p.Messages {
			got = append(got, m.Name+": "+m.Text)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s's tab shows %q, want %q", p.Who, got, want)
		}
		if p.Online != "2" {
			t.Errorf("%s's tab shows %q online, want 2", p.Who, p.Online)
		}
		if p.Input != "" {
			t.Errorf("%s's message box still holds %q after sending", p.Who, p.Input)
		}
		for _, e := range p.Errors {
			t.Errorf("%s's tab: %s", p.Who, e)
		}
	}

	// The server counted the two messages, and both tabs have left.
	var st struct {
		Connections struct{ Chat int }
		Messages    struct{ In int }
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := getJSON(base+"stats", &st); err != nil {
			t.Fatal(err)
		}
		if st.Connections.Chat == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st.Messages.In != 2 || st.Connections.Chat != 0 {
		t.Errorf("/stats after the run: %+v, want 2 messages in and no chat connection", st)
	}
}

// buildWeir builds the weir command of the main module (the parent folder).
func buildWeir(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "weir")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/weir")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/weir: %v\n%s", err, out)
	}
	return bin
}

// serveURL is the page's URL in the first line `weir serve` prints.
var serveURL = regexp.MustCompile(`http://[^/\s]+/`)

// startWeirServe starts `weir serve` on a free port, with extra flags if any,
// and returns the page's URL; Cleanup stops it with SIGINT and checks that it
// exits cleanly.
func startWeirServe(t *testing.T, bin string, extra ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "-addr", "127.0.0.1:0"}, extra...)...)
	first, stderr := startFirstLine(t, cmd, "weir serve")
	select {
	case line := <-first:
		u := serveURL.FindString(line)
		if u == "" {
			t.Fatalf("weir serve printed %q, no http:// URL\n%s", line, stderr.String())
		}
		return u
	case <-time.After(30 * time.Second):
		t.Fatalf("weir serve printed nothing within 30s\n%s", stderr.String())
	}
	return ""
}

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// needChromium fails the test when Chromium is broken or, under CI=true,
// missing; it skips it when Chromium is missing elsewhere.
func needChromium(t *testing.T) {
	t.Helper()
	version, err := probeChromium()
	if err != nil {
		if inCI || !errors.Is(err, errPeerMissing) {
			t.Fatalf("chromium: %v", err)
		}
		t.Skipf("chromium: %v", err)
	}
	t.Logf("chromium %s", version)
}

// startFirstLine starts cmd and returns a channel with the first line it
// prints (trimmed) and its stderr's tail. Cleanup stops it with SIGINT and
// checks that it exits cleanly within 15 s.
func startFirstLine(t *testing.T, cmd *exec.Cmd, name string) (<-chan string, *tailBuffer) {
	t.Helper()
	stderr := &tailBuffer{max: 64 << 10}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	first := make(chan string, 1)
	go func() {
		br := bufio.NewReader(stdout)
		line, _ := br.ReadString('\n')
		first <- strings.TrimSpace(line)
		io.Copy(io.Discard, br)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			cmd.Process.Kill()
		}
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("%s after SIGINT: %v\n%s", name, err, stderr.String())
			}
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			t.Errorf("%s still running 15s after SIGINT\n%s", name, stderr.String())
		}
	})
	return first, stderr
}
