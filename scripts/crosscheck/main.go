// Command crosscheck type-checks packages for other platforms without
// compiling anything: every package the patterns name, their tests (internal
// and external test packages), and every package they import, the standard
// library included, from source with go/types, once for each GOOS given
// (GOARCH from the environment, amd64 by default).
//
//	go run ./scripts/crosscheck -goos freebsd,windows ./...
//
// It is `make cross`'s check for the platforms whose code `go vet` does not
// also cover there: what breaks when a per-OS file changes (a function one
// platform's file lacks, a type that differs, a syscall field that is not
// there) is a type error, and go/types finds every type error the compiler
// would. `go vet` for a GOOS compiles every imported package for it,
// the standard library first (about a minute a platform on two cores, cold);
// checking from source takes seconds.
//
// The package list and each package's files, build constraints applied for
// the target, come from one `go list -deps -test -json`, so the files
// checked are the ones `go build` and `go test` would compile there.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// pkg is the part of `go list -json` crosscheck reads.
type pkg struct {
	ImportPath string
	Dir        string
	Name       string
	Standard   bool
	GoFiles    []string
	CgoFiles   []string
	Imports    []string
	ImportMap  map[string]string
	ForTest    string
	Module     *struct{ GoVersion string }
	Error      *struct{ Err string }
}

func main() {
	goosList := flag.String("goos", runtime.GOOS, "comma-separated GOOS values")
	flag.Parse()
	patterns := flag.Args()
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	goarch := env("GOARCH", "amd64")
	code := 0
	for _, goos := range strings.Split(*goosList, ",") {
		n, failed, err := check("", goos, goarch, patterns)
		switch {
		case err != nil:
			fmt.Fprintln(os.Stderr, "crosscheck:", err)
			code = 1
		case len(failed) > 0:
			for _, f := range failed {
				fmt.Fprintln(os.Stderr, f)
			}
			fmt.Fprintf(os.Stderr, "crosscheck: GOOS=%s GOARCH=%s: %d errors\n", goos, goarch, len(failed))
			code = 1
		default:
			fmt.Printf("crosscheck: GOOS=%s GOARCH=%s: %d packages type-check\n", goos, goarch, n)
		}
	}
	os.Exit(code)
}

// check type-checks the packages patterns name in dir (the current
// directory if empty), with their tests and dependencies, for goos/goarch.
// It returns how many packages it checked and the errors found, each once
// (a package and its test variant report the same error).
func check(dir, goos, goarch string, patterns []string) (n int, failed []string, err error) {
	args := append([]string{"list", "-e", "-deps", "-test", "-json=ImportPath,Dir,Name,Standard,GoFiles,CgoFiles,Imports,ImportMap,ForTest,Module,Error"}, patterns...)
	cmd := exec.Command(goCmd(), args...)
	// CGO_ENABLED=0: what a cross build gets by default; cgo files would
	// need cgo's preprocessing, which a type check from source cannot do.
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, nil, fmt.Errorf("GOOS=%s go list: %v", goos, err)
	}
	fset := token.NewFileSet()
	checked := map[string]*types.Package{"unsafe": types.Unsafe}
	sizes := types.SizesFor("gc", goarch)
	seen := map[string]bool{}
	fail := func(msg string) {
		if !seen[msg] {
			seen[msg] = true
			failed = append(failed, msg)
		}
	}
	// go list -deps prints every package after the packages it imports.
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return 0, nil, fmt.Errorf("go list output: %v", err)
		}
		if p.ImportPath == "unsafe" {
			continue
		}
		if p.Error != nil {
			fail(fmt.Sprintf("%s: %s", p.ImportPath, p.Error.Err))
			continue
		}
		if strings.HasSuffix(p.ImportPath, ".test") && p.Name == "main" {
			continue // the generated test main: nothing of ours in it
		}
		if len(p.CgoFiles) > 0 {
			fail(fmt.Sprintf("%s: cgo files, which crosscheck does not handle (CGO_ENABLED=0 leaves them out)", p.ImportPath))
			continue
		}
		files := make([]*ast.File, 0, len(p.GoFiles))
		for _, name := range p.GoFiles {
			path := name
			if !filepath.IsAbs(path) {
				path = filepath.Join(p.Dir, name)
			}
			f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
			if err != nil {
				fail(err.Error())
				continue
			}
			files = append(files, f)
		}
		var errs []string
		conf := types.Config{
			Importer: importer(func(path string) (*types.Package, error) {
				if q, ok := p.ImportMap[path]; ok {
					path = q
				}
				if tp, ok := checked[path]; ok {
					return tp, nil
				}
				return nil, fmt.Errorf("%s: not type-checked (listed out of order?)", path)
			}),
			Sizes: sizes,
			Error: func(err error) {
				if len(errs) < 10 {
					errs = append(errs, err.Error())
				}
			},
		}
		if p.Module != nil && p.Module.GoVersion != "" {
			conf.GoVersion = "go" + p.Module.GoVersion
		}
		tp, _ := conf.Check(p.ImportPath, fset, files, nil)
		checked[p.ImportPath] = tp
		for _, e := range errs {
			fail(e)
		}
		n++
	}
	return n, failed, nil
}

type importer func(path string) (*types.Package, error)

func (f importer) Import(path string) (*types.Package, error) { return f(path) }

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func goCmd() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}
