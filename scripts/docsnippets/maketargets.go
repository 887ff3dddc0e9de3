package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// A make invocation in a doc's code: `make run`, `make fuzz FUZZEXECS=2000000`,
// and in sh blocks the same after `&&` or `;`.
var makeCall = regexp.MustCompile(`(?:^|&&|;)\s*make\s+([A-Za-z][\w.-]*)`)

// A Makefile rule's target: a name at the start of a line, then a colon that
// does not start :=.
var makeRule = regexp.MustCompile(`(?m)^([A-Za-z][\w./-]*)\s*:([^=]|$)`)

// checkMakeTargets reports every `make TARGET` in the given docs' code (sh
// blocks and inline code) whose target the Makefile does not have.
func checkMakeTargets(makefile string, docs []string) ([]string, int, error) {
	mk, err := os.ReadFile(makefile)
	if err != nil {
		return nil, 0, err
	}
	targets := map[string]bool{}
	for _, m := range makeRule.FindAllStringSubmatch(string(mk), -1) {
		targets[m[1]] = true
	}
	var failed []string
	n := 0
	for _, f := range docs {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, 0, err
		}
		for _, c := range makeCalls(string(b)) {
			n++
			if !targets[c.target] {
				failed = append(failed, fmt.Sprintf("%s:%d: make %s: no such target in %s", f, c.line, c.target, makefile))
			}
		}
	}
	return failed, n, nil
}

type makeUse struct {
	line   int
	target string
}

// makeCalls returns the make invocations in md's sh blocks (```sh, ```bash,
// ```console, or an indented block) and inline code spans; Go blocks are skipped.
func makeCalls(md string) []makeUse {
	var out []makeUse
	in, shell := false, false
	for i, line := range strings.Split(md, "\n") {
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "```") {
			if in {
				in = false
			} else {
				info := strings.TrimPrefix(t, "```")
				in, shell = true, info == "sh" || info == "bash" || info == "console"
			}
			continue
		}
		var code []string
		switch {
		case in && shell:
			code = []string{line}
		case in:
			continue
		case strings.HasPrefix(line, "    "):
			code = []string{line}
		default:
			parts := strings.Split(line, "`")
			for j := 1; j < len(parts); j += 2 {
				code = append(code, parts[j])
			}
		}
		for _, c := range code {
			for _, m := range makeCall.FindAllStringSubmatch(c, -1) {
				out = append(out, makeUse{i + 1, m[1]})
			}
		}
	}
	return out
}
