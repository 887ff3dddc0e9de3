// Command docsnippets checks that every Go snippet in README.md and docs/*.md
// compiles and runs as written, so that a reader can paste it, and that every
// `make TARGET` they (and bench/README.md) show names a target of the
// Makefile, and every TestX, BenchmarkX, FuzzX and ExampleX they name is
// declared in a _test.go. Run it from the module root (make docs-check, part of make test):
//
//   - A snippet that is a whole program (it has `package main`) is built and
//     vetted as it stands, imports and all.
//   - Any other snippet must appear, line for line (indentation aside), in an
//     example file of the repository (example_test.go, example_linux_test.go),
//     whose `// Output:` go test checks. A first line `// weir` or
//     `// weir, ...` is a label and is not matched.
//   - A snippet of another library, for comparison (migrating.md), starts with a
//     comment naming it: `// gorilla`, `// gws`, `// coder/websocket`,
//     `// gobwas/ws`, `// nbio`. It is not checked.
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

var foreign = regexp.MustCompile(`^// (gorilla|gws|coder/websocket|gobwas/ws|nbio)\b`)

type snippet struct {
	where string // file:line
	text  string
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "docsnippets:", err)
		os.Exit(1)
	}
}

func run() error {
	files, _ := filepath.Glob("docs/*.md")
	files = append([]string{"README.md"}, files...)
	var snippets []snippet
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		snippets = append(snippets, extract(f, string(b))...)
	}
	examples, err := exampleText()
	if err != nil {
		return err
	}
	var programs []snippet
	var failed []string
	counts := map[string]int{}
	for _, s := range snippets {
		first, _, _ := strings.Cut(s.text, "\n")
		switch {
		case foreign.MatchString(first):
			counts["another library's, not checked"]++
		case strings.HasPrefix(s.text, "package main") || strings.Contains(s.text, "\npackage main"):
			programs = append(programs, s)
			counts["programs, built and vetted"]++
		default:
			if !strings.Contains(examples, normalize(s.text)) {
				failed = append(failed, s.where+": not found in any example_test.go (make it an example, or quote one)")
			}
			counts["quoted from examples"]++
		}
	}
	if len(programs) > 0 {
		if err := build(programs); err != nil {
			failed = append(failed, err.Error())
		}
	}
	// Every make target the docs name exists (bench/README.md too).
	mfailed, mn, err := checkMakeTargets("Makefile", append(files, "bench/README.md"))
	if err != nil {
		return err
	}
	failed = append(failed, mfailed...)
	fmt.Printf("docsnippets: %d make invocations, targets checked against the Makefile\n", mn)
	// Every test, benchmark, fuzz target and example they name exists.
	tfailed, tn, err := checkTestNames(".", append(files, "bench/README.md"))
	if err != nil {
		return err
	}
	failed = append(failed, tfailed...)
	fmt.Printf("docsnippets: %d test, benchmark, fuzz and example names, each declared in a _test.go\n", tn)
	fmt.Printf("docsnippets: %d Go snippets in README.md and docs/:", len(snippets))
	for _, k := range []string{"quoted from examples", "programs, built and vetted", "another library's, not checked"} {
		fmt.Printf(" %d %s;", counts[k], k)
	}
	fmt.Println()
	if len(failed) > 0 {
		return fmt.Errorf("%d failed:\n  %s", len(failed), strings.Join(failed, "\n  "))
	}
	return nil
}

// extract returns the ```go blocks of a markdown file.
func extract(name, doc string) []snippet {
	var out []snippet
	lines := strings.Split(doc, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```go" {
			continue
		}
		start := i + 1
		j := start
		for j < len(lines) && strings.TrimSpace(lines[j]) != "```" {
			j++
		}
		out = append(out, snippet{fmt.Sprintf("%s:%d", name, start), strings.Join(lines[start:j], "\n")})
		i = j
	}
	return out
}

var label = regexp.MustCompile(`^// weir(,.*)?$`)

// normalize drops indentation, blank lines and a leading `// weir` label, and
// brackets each line with newlines so that matches are whole lines.
func normalize(s string) string {
	var b strings.Builder
	b.WriteString("\n")
	for i, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || (i == 0 && label.MatchString(l)) {
			continue
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

// exampleText is every example*_test.go of the module, normalized.
func exampleText() (string, error) {
	var b strings.Builder
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), "example") && strings.HasSuffix(d.Name(), "_test.go") {
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			b.WriteString(normalize(string(src)))
		}
		return nil
	})
	return b.String(), err
}

// build writes each program into its own package under a temporary folder in
// the module (so that weir's packages resolve) and vets them all.
func build(programs []snippet) error {
	dir, err := os.MkdirTemp(".", "docsnippets-tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	where := map[string]string{}
	for i, p := range programs {
		d := filepath.Join(dir, fmt.Sprintf("p%d", i))
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(d, "main.go"), []byte(p.text+"\n"), 0o644); err != nil {
			return err
		}
		where[fmt.Sprintf("p%d", i)] = p.where
	}
	gobin := os.Getenv("GO")
	if gobin == "" {
		gobin = "go"
	}
	var out bytes.Buffer
	cmd := exec.Command(gobin, "vet", "./"+filepath.ToSlash(dir)+"/...")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := out.String()
		for p, w := range where { // name the snippet, not the temporary file
			msg = strings.ReplaceAll(msg, filepath.Join(dir, p)+"/main.go", w+" (program)")
			msg = strings.ReplaceAll(msg, filepath.ToSlash(dir)+"/"+p+"/main.go", w+" (program)")
		}
		return fmt.Errorf("programs do not build or vet: %v\n%s", err, msg)
	}
	return nil
}
