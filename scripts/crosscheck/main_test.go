package main

import (
	"strings"
	"testing"
)

// TestCheck runs crosscheck on testdata/mod, whose package type-checks on
// unix and has two errors on windows: one in a !unix file, one in a
// windows-only test file.
func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		goos string
		want []string // substrings of the errors, one each
	}{
		{"linux", nil},
		{"freebsd", nil},
		{"windows", []string{"p.go:4:13: cannot use f()", "q_windows_test.go:3:9: undefined: g"}},
	} {
		t.Run(tc.goos, func(t *testing.T) {
			t.Parallel()
			n, failed, err := check("testdata/mod", tc.goos, "amd64", []string{"./..."})
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Error("checked no package")
			}
			if len(failed) != len(tc.want) {
				t.Fatalf("errors %q, want %d: %q", failed, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(failed[i], w) {
					t.Errorf("error %d = %q, want it to contain %q", i, failed[i], w)
				}
			}
		})
	}
}
