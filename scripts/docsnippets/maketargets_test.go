package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMakeCalls(t *testing.T) {
	t.Parallel()
	md := "```sh\nmake run    # the demo\ncd x && make bench-full; make lint\n```\n" +
		"```go\nmake(chan int)\n```\n" +
		"Run `make fuzz FUZZEXECS=2000000` or `make test-long`; to make it work, `go test`.\n" +
		"    make docs\n"
	want := []makeUse{{2, "run"}, {3, "bench-full"}, {3, "lint"}, {8, "fuzz"}, {8, "test-long"}, {9, "docs"}}
	if got := makeCalls(md); !reflect.DeepEqual(got, want) {
		t.Errorf("makeCalls = %v, want %v", got, want)
	}
}

func TestCheckMakeTargets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mk := filepath.Join(dir, "Makefile")
	doc := filepath.Join(dir, "doc.md")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(mk, []byte("GO ?= go\nX := y\n.PHONY: run\nrun:\n\tgo run .\nbench-full: run\n"), 0o644))
	must(os.WriteFile(doc, []byte("`make run`, `make bench-full`, `make X`, `make GO`, `make gone`\n"), 0o644))
	failed, n, err := checkMakeTargets(mk, []string{doc})
	must(err)
	if n != 5 || len(failed) != 3 {
		t.Errorf("checked %d, failed %q; want 5 checked, 3 failed (X, GO, gone)", n, failed)
	}
}

func TestCheckTestNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "pkg"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "pkg", "x_test.go"), []byte("package pkg\n\nfunc TestThere(t *testing.T) {}\nfunc BenchmarkHeap(b *testing.B) {}\n"), 0o644))
	doc := filepath.Join(dir, "doc.md")
	must(os.WriteFile(doc, []byte("`TestThere` and BenchmarkHeap/deflate; TestGone.\nTesting is not a name.\n"), 0o644))
	failed, n, err := checkTestNames(dir, []string{doc})
	must(err)
	if n != 3 || len(failed) != 1 || !strings.Contains(failed[0], "TestGone") {
		t.Errorf("named %d, failed %q; want 3 named, TestGone failed", n, failed)
	}
}
