package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDemoClusterChromium is the two-node demo (make run-cluster) in headless
// Chromium: a NATS server (natsbridge/cmd/natsdemo, nats-server in-process)
// and two `weir serve -nats` nodes (natsbridge/cmd/weir), built from the NATS
// bridge's module and run as binaries, so this module does not depend on
// nats.go. peers/chromium/demo_cluster.js puts ada (node A) and bob (node B)
// in #lobby, dan (A) and cy (B) in #dev: a message from one node reaches its
// room on the other and no other room. Like TestDemoChromium, it records
// nothing for docs/conformance.md, and under CI=true it must not skip.
func TestDemoClusterChromium(t *testing.T) {
	needChromium(t)
	t.Parallel()

	weir, natsdemo := buildClusterDemo(t)
	natsURL := startNATSDemo(t, natsdemo)
	urlA := startWeirServe(t, weir, "-nats", natsURL)
	urlB := startWeirServe(t, weir, "-nats", natsURL)
	nodeA, nodeB := strings.TrimSuffix(strings.TrimPrefix(urlA, "http://"), "/"),
		strings.TrimSuffix(strings.TrimPrefix(urlB, "http://"), "/")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "peers/chromium/demo_cluster.js", urlA, urlB)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("demo_cluster.js: %v\n%s", err, stderr.String())
	}
	var res struct {
		Waits []string
		Pages []struct {
			Who                string
			Messages           []struct{ Name, Text, Via string }
			Online, Room, Node string
			Errors             []string
		}
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("demo_cluster.js output: %v\n%s\n%s", err, out, stderr.String())
	}
	for _, w := range res.Waits {
		t.Errorf("timed out: %s", w)
	}
	lobby := []string{"ada: hello from ada", "bob: hi from bob"}
	dev := []string{"cy: dev from cy"}
	want := map[string]struct {
		node, room string
		msgs       []string
		via        map[string]string // message -> the other node it came through
	}{
		"ada": {nodeA, "#lobby", lobby, map[string]string{"bob: hi from bob": "via " + nodeB}},
		"bob": {nodeB, "#lobby", lobby, map[string]string{"ada: hello from ada": "via " + nodeA}},
		"dan": {nodeA, "#dev", dev, map[string]string{"cy: dev from cy": "via " + nodeB}},
		"cy":  {nodeB, "#dev", dev, nil},
	}
	if len(res.Pages) != len(want) {
		t.Fatalf("%d tabs reported, want %d: %s", len(res.Pages), len(want), out)
	}
	for _, p := range res.Pages {
		w := want[p.Who]
		var got []string
		for _, m := range p.Messages {
			k := m.Name + ": " + m.Text
			got = append(got, k)
			if m.Via != w.via[k] {
				t.Errorf("%s's tab shows %q as %q, want %q", p.Who, k, m.Via, w.via[k])
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, w.msgs) {
			t.Errorf("%s's tab (%s) shows %q, want %q", p.Who, p.Room, got, w.msgs)
		}
		// Counts are per node: each room has one page on each node.
		if p.Room != w.room || p.Node != "on "+w.node || p.Online != "1" {
			t.Errorf("%s's tab: room %q, %q, %s online; want %s, on %s, 1", p.Who, p.Room, p.Node, p.Online, w.room, w.node)
		}
		for _, e := range p.Errors {
			t.Errorf("%s's tab: %s", p.Who, e)
		}
	}

	// Each node counted the other's publishes as remote.
	for _, u := range []string{urlA, urlB} {
		var st struct {
			PubSub struct{ Remote, BridgeErrors int }
		}
		if err := getJSON(u+"stats", &st); err != nil {
			t.Fatal(err)
		}
		if st.PubSub.Remote == 0 || st.PubSub.BridgeErrors != 0 {
			t.Errorf("%sstats: pubsub %+v, want remote publishes and no bridge error", u, st.PubSub)
		}
	}
}

// buildClusterDemo builds natsbridge/cmd/weir and natsbridge/cmd/natsdemo in
// the NATS bridge's own module.
func buildClusterDemo(t *testing.T) (weir, natsdemo string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./cmd/weir", "./cmd/natsdemo")
	cmd.Dir = filepath.Join("..", "natsbridge")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/weir ./cmd/natsdemo in natsbridge: %v\n%s", err, out)
	}
	return filepath.Join(dir, "weir"), filepath.Join(dir, "natsdemo")
}

// startNATSDemo runs natsdemo on a free port and returns the URL it prints;
// Cleanup stops it with SIGINT (after the nodes, which were started later).
func startNATSDemo(t *testing.T, bin string) string {
	t.Helper()
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	first, stderr := startFirstLine(t, cmd, "natsdemo")
	select {
	case u := <-first:
		if !strings.HasPrefix(u, "nats://") {
			t.Fatalf("natsdemo printed %q, no nats:// URL\n%s", u, stderr.String())
		}
		return u
	case <-time.After(30 * time.Second):
		t.Fatalf("natsdemo printed nothing within 30s\n%s", stderr.String())
	}
	return ""
}
