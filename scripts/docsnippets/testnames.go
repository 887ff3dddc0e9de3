package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// A test, benchmark, fuzz target or example the docs name (TestServerKill,
// BenchmarkIdleConnHeapDeflate/no-takeover: the part before the slash).
var testName = regexp.MustCompile(`\b(?:Test|Benchmark|Fuzz|Example)[A-Z][A-Za-z0-9_]*`)

// A test function's declaration.
var testFunc = regexp.MustCompile(`(?m)^func ((?:Test|Benchmark|Fuzz|Example)[A-Za-z0-9_]*)\(`)

// checkTestNames reports every test, benchmark, fuzz target or example the
// docs name that no _test.go file under root declares, so that a rename or a
// removal shows in the docs that cite it.
func checkTestNames(root string, docs []string) ([]string, int, error) {
	declared := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (d.Name() == "node_modules" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range testFunc.FindAllStringSubmatch(string(src), -1) {
			declared[m[1]] = true
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	named := map[string]string{} // name -> first doc:line
	for _, f := range docs {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, 0, err
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, n := range testName.FindAllString(line, -1) {
				if _, ok := named[n]; !ok {
					named[n] = fmt.Sprintf("%s:%d", f, i+1)
				}
			}
		}
	}
	var failed []string
	for n, where := range named {
		if !declared[n] {
			failed = append(failed, fmt.Sprintf("%s: %s: no _test.go declares it", where, n))
		}
	}
	sort.Strings(failed)
	return failed, len(named), nil
}
