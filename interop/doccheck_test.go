package interop

import (
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The doc check: `make test` runs the suite with -check-doc, and TestMain then
// compares docs/conformance.md with the text this run would write, through
// docView. When every peer ran the two must be equal but for the peers'
// versions: a newer Debian chromium or python3-websockets on the machine is
// reported (one line: refresh with make docs) but does not fail the build
// while every cell still says the same. When a peer was skipped (not
// installed, outside CI only), docView also blanks that peer's cells,
// peers-table row and variant lines, and the counts they feed; everything
// else must still match.

// skippedPeers returns the peers that did not run, with the probe's error.
func skippedPeers() map[string]string {
	results.Lock()
	defer results.Unlock()
	sk := map[string]string{}
	for k, r := range results.cells {
		if r.status == cellNotRun {
			sk[k.peer] = r.detail
		}
	}
	return sk
}

// reportSkipped prints one line per skipped peer, naming what to install.
func reportSkipped(sk map[string]string) {
	for _, name := range slices.Sorted(maps.Keys(sk)) {
		hint := "see .ci/run"
		for _, p := range peers {
			if p.name == name && p.install != "" {
				hint = p.install
			}
		}
		fmt.Fprintf(os.Stderr, "interop: %s not found: %s (its cells were not run nor checked against docs/conformance.md)\n", name, hint)
	}
}

// checkDoc compares the committed doc at path with this run's.
func checkDoc(path string) error {
	sk := skippedPeers()
	if inCI && len(sk) > 0 {
		return fmt.Errorf("peers skipped under CI=true: %v", slices.Sorted(maps.Keys(sk)))
	}
	got, err := renderDoc()
	if err != nil {
		return fmt.Errorf("not checked: %w", err)
	}
	committed, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, w := range versionChanges(string(committed), got, sk) {
		fmt.Fprintln(os.Stderr, "conformance doc:", w)
	}
	if err := compareDoc(string(committed), got, sk); err != nil {
		f, ferr := os.CreateTemp("", "conformance-*.md")
		if ferr == nil {
			f.WriteString(got)
			f.Close()
			err = fmt.Errorf("%w\n  this run's doc: %s (diff -u %s %s); regenerate with make docs", err, f.Name(), path, f.Name())
		}
		return err
	}
	return nil
}

// compareDoc reports the first line where committed and generated differ,
// through docView when peers were skipped.
func compareDoc(committed, generated string, skipped map[string]string) error {
	if committed == generated {
		return nil
	}
	a := strings.Split(docView(committed, skipped), "\n")
	b := strings.Split(docView(generated, skipped), "\n")
	for i := 0; i < max(len(a), len(b)); i++ {
		var la, lb string
		if i < len(a) {
			la = a[i]
		}
		if i < len(b) {
			lb = b[i]
		}
		if la != lb {
			return fmt.Errorf("docs/conformance.md differs from this run at line %d of the compared text:\n  committed: %s\n  this run:  %s", i+1, la, lb)
		}
	}
	return nil
}

var (
	noteRef     = regexp.MustCompile(`\((\d+)\)`)
	noteLine    = regexp.MustCompile(`^(\d+)\. (.*)$`)
	variantTail = regexp.MustCompile(`: (all \d+ cells as in \S+\.|\d+ of \d+ cells differ from \S+:)$`)
	bugCount    = regexp.MustCompile(`^(- Failures it explains in this run: )\d+$`)
)

// docView is the part of a conformance doc that a run with the skipped peers
// missing can vouch for: their cells and rows read "skipped", matrix notes are
// written out in their cells (skipping a peer renumbers them), and counts that
// include the skipped peers' cells are dropped.
func docView(doc string, skipped map[string]string) string {
	lines := strings.Split(doc, "\n")
	notes := map[string]string{}
	section := ""
	for _, l := range lines {
		if strings.HasPrefix(l, "## ") {
			section = l
		}
		if m := noteLine.FindStringSubmatch(l); m != nil && strings.HasPrefix(section, "## Matrix") {
			notes[m[1]] = m[2]
		}
	}
	var out []string
	var cols []string
	section = ""
	for _, l := range lines {
		if strings.HasPrefix(l, "## ") {
			section = l
		}
		switch {
		case strings.HasPrefix(section, "## Peers") && strings.HasPrefix(l, "| "):
			cells := splitRow(l)
			if len(cells) > 0 && skipped[cells[0]] != "" {
				l = "| " + cells[0] + " | skipped |"
			} else if len(cells) == 5 && cells[0] != "peer" {
				cells[3] = "(version)" // versionChanges reports these
				l = "| " + strings.Join(cells, " | ") + " |"
			}
		case strings.HasPrefix(section, "## Matrix") && len(skipped) > 0:
			if l == "Notes:" || noteLine.MatchString(l) {
				continue
			}
			if !strings.HasPrefix(l, "| ") {
				break
			}
			cells := splitRow(l)
			if len(cells) > 0 && cells[0] == "scenario" {
				cols = cells
				break
			}
			for i := 1; i < len(cells) && i < len(cols); i++ {
				if skipped[cols[i]] != "" {
					cells[i] = "skipped"
					continue
				}
				cells[i] = noteRef.ReplaceAllStringFunc(cells[i], func(ref string) string {
					return "(" + notes[strings.Trim(ref, "()")] + ")"
				})
			}
			l = "| " + strings.Join(cells, " | ") + " |"
		case strings.HasPrefix(section, "## Other variants") && len(skipped) > 0:
			if strings.HasPrefix(l, "- **") {
				l = variantTail.ReplaceAllString(l, ":")
			} else if rest, ok := strings.CutPrefix(l, "  - "); ok {
				if peer, _, _ := strings.Cut(rest, ","); skipped[peer] != "" {
					continue
				}
			}
		case strings.HasPrefix(section, "## Known weir bugs") && len(skipped) > 0:
			l = bugCount.ReplaceAllString(l, "${1}(not compared: a peer was skipped)")
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// versionChanges lists the peers whose version in the doc is not this run's.
func versionChanges(committed, generated string, skipped map[string]string) []string {
	versions := func(doc string) map[string]string {
		v := map[string]string{}
		section := ""
		for _, l := range strings.Split(doc, "\n") {
			if strings.HasPrefix(l, "## ") {
				section = l
			}
			if cells := splitRow(l); strings.HasPrefix(section, "## Peers") && len(cells) == 5 && cells[0] != "peer" {
				v[cells[0]] = cells[3]
			}
		}
		return v
	}
	was, now := versions(committed), versions(generated)
	var out []string
	for _, p := range slices.Sorted(maps.Keys(now)) {
		if skipped[p] == "" && was[p] != now[p] {
			out = append(out, fmt.Sprintf("%s is %s here, the doc says %s: refresh it with make docs", p, now[p], was[p]))
		}
	}
	return out
}

// splitRow splits a markdown table row into its trimmed cells.
func splitRow(l string) []string {
	l = strings.TrimSpace(l)
	l = strings.TrimPrefix(l, "|")
	l = strings.TrimSuffix(l, "|")
	cells := strings.Split(l, "|")
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	return cells
}

// TestDocCheck checks the check, on the committed doc and on docs rendered
// from made-up results. Not parallel: it swaps the recorded results for its
// own (restored after), and a sequential top-level test runs alone.
func TestDocCheck(t *testing.T) {
	committed, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(committed)
	tamper := func(doc, old, new string) string {
		t.Helper()
		if !strings.Contains(doc, old) {
			t.Fatalf("%q not in the doc", old)
		}
		return strings.Replace(doc, old, new, 1)
	}
	if err := compareDoc(doc, doc, nil); err != nil {
		t.Errorf("the committed doc against itself: %v", err)
	}
	for _, tc := range []struct{ name, old, new string }{
		{"a cell", "| echo/text | pass | pass |", "| echo/text | **FAIL** (1) | pass |"},
		{"a bad-peer row", "| HTTP 400 | pass |\n\n### Frames", "| HTTP 400 | **FAIL**: x |\n\n### Frames"},
	} {
		if err := compareDoc(tamper(doc, tc.old, tc.new), doc, nil); err == nil {
			t.Errorf("committed doc with %s tampered: the check passes", tc.name)
		}
	}

	// A peer's version alone is reported, not failed on.
	newer := tamper(doc, "| ws | yes | yes | 8.23.0 |", "| ws | yes | yes | 8.23.1 |")
	if err := compareDoc(doc, newer, nil); err != nil {
		t.Errorf("a newer ws: %v", err)
	}
	if w := versionChanges(doc, newer, nil); len(w) != 1 || !strings.Contains(w[0], "ws is 8.23.1 here, the doc says 8.23.0") {
		t.Errorf("a newer ws: reported %q", w)
	}

	saved := struct {
		cells    map[cellKey]cellResult
		versions map[string]string
		rows     map[string]*badResult
	}{results.cells, results.versions, badResults.rows}
	defer func() {
		results.cells, results.versions, badResults.rows = saved.cells, saved.versions, saved.rows
	}()
	// render makes up a complete run: every cell passes but a few peer
	// limits, one variant differs for chromium, chromium ran or not.
	render := func(chromium bool) string {
		t.Helper()
		results.cells = map[cellKey]cellResult{}
		results.versions = map[string]string{}
		for _, p := range peers {
			results.versions[p.name] = "1.0"
			for _, v := range variants {
				for _, r := range p.roles() {
					for _, sc := range scenarios {
						res := cellResult{status: cellPass}
						switch {
						case p.name == "chromium" && !chromium:
							res = cellResult{status: cellNotRun, detail: "not installed"}
						case p.name == "chromium" && sc.key() == "echo/text":
							res = cellResult{status: cellLimit, detail: "a browser limit"}
						case p.name == "chromium" && v.name == "deflate" && sc.key() == "echo/binary":
							res = cellResult{status: cellLimit, detail: "a deflate-only browser limit"}
						case p.name == "watershed" && sc.key() == "echo/binary":
							res = cellResult{status: cellLimit, detail: "a watershed limit"}
						}
						results.cells[cellKey{v.name, p.name, sc.key(), r}] = res
					}
				}
			}
		}
		if !chromium {
			delete(results.versions, "chromium")
		}
		badResults.rows = map[string]*badResult{}
		for _, g := range []string{"handshake", "frame", "client", "resource", "attack"} {
			for _, k := range sortedBad(g) {
				badResults.rows[k] = &badResult{group: g, name: strings.TrimPrefix(k, g+"/"), ran: 1}
			}
		}
		doc, err := renderDoc()
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	full, partial := render(true), render(false)
	skipped := map[string]string{"chromium": "not installed"}
	if err := compareDoc(full, partial, skipped); err != nil {
		t.Errorf("chromium skipped, the full doc committed: %v", err)
	}
	if err := compareDoc(full, partial, nil); err == nil {
		t.Error("the same two docs with nothing skipped: the check passes")
	}
	if err := compareDoc(tamper(full, "| echo/binary | pass | pass | peer (2) |", "| echo/binary | pass | pass | pass |"), partial, skipped); err == nil {
		t.Error("a cell of a peer that ran tampered: the check passes")
	}
	if err := compareDoc(tamper(full, "a watershed limit", "a watershed limit, edited"), partial, skipped); err == nil {
		t.Error("the note of a peer that ran tampered: the check passes")
	}
	if err := compareDoc(tamper(full, "pass | peer (1) |\n| echo/binary", "pass | pass |\n| echo/binary"), partial, skipped); err != nil {
		t.Errorf("a cell of the skipped peer changed: %v", err)
	}
	if err := compareDoc(tamper(full, "echo/binary: peer (1) (a deflate-only", "echo/binary: pass (a deflate-only"), partial, skipped); err != nil {
		t.Errorf("a variant line of the skipped peer changed: %v", err)
	}
}
