package pubsub

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 257)
	deep := strings.Repeat("a.", 16) + "a" // 17 tokens
	for _, tc := range []struct {
		name string
		wild bool
		err  bool
	}{
		{"a", false, false},
		{"chat.room.42", false, false},
		{"a*b.c>d", false, false}, // wildcards only as whole tokens
		{"*", true, false},
		{">", true, false},
		{"a.*.c", true, false},
		{"a.>", true, false},
		{"*.>", true, false},
		{"", false, true},
		{".", false, true},
		{".a", false, true},
		{"a.", false, true},
		{"a..b", false, true},
		{"a b", false, true},
		{"a\tb", false, true},
		{"a\x00", false, true},
		{"a\x7f", false, true},
		{">.a", false, true},
		{"a.>.b", false, true},
		{long, false, true},
		{long[:256], false, false},
		{deep, false, true},
		{deep[2:], false, false},
	} {
		wild, err := checkName(tc.name, 256, 16)
		if (err != nil) != tc.err || (err == nil && wild != tc.wild) {
			t.Errorf("checkName(%q) = %v, %v; want wild %v, error %v", tc.name, wild, err, tc.wild, tc.err)
		}
		if err != nil && !errors.Is(err, ErrInvalidTopic) {
			t.Errorf("checkName(%q) error %v is not ErrInvalidTopic", tc.name, err)
		}
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pattern, topic string
		want           bool
	}{
		{"a", "a", true},
		{"a", "b", false},
		{"a", "a.b", false},
		{"a.b", "a", false},
		{"*", "a", true},
		{"*", "a.b", false},
		{"a.*", "a.b", true},
		{"a.*", "a", false},
		{"a.*", "a.b.c", false},
		{"*.b", "a.b", true},
		{"*.*", "a.b", true},
		{"a.>", "a.b", true},
		{"a.>", "a.b.c", true},
		{"a.>", "a", false},
		{">", "a", true},
		{">", "a.b.c", true},
		{"*.>", "a", false},
		{"*.>", "a.b", true},
		{"a.*.c", "a.x.c", true},
		{"a.*.c", "a.x.d", false},
		{"a*", "ab", false}, // '*' inside a token is literal
		{"a*", "a*", true},
	} {
		if got := Match(tc.pattern, tc.topic); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.topic, got, tc.want)
		}
	}
}

// treeMatches returns, sorted, the patterns of w matching topic.
func treeMatches(w *wildIndex, topic string) []string {
	var names []string
	for _, s := range w.root.match(topic, nil) {
		names = append(names, s.name)
	}
	slices.Sort(names)
	return names
}

// TestTreeAgreesWithMatch fills a pattern tree with random patterns, checks
// every topic against Match, then removes them all and checks the tree is
// empty (prune leaves no node behind).
func TestTreeAgreesWithMatch(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	toks := []string{"a", "b", "c"}
	word := func(wild bool) string {
		n := 1 + r.IntN(4)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = toks[r.IntN(len(toks))]
			if wild && r.IntN(3) == 0 {
				parts[i] = "*"
			}
		}
		if wild && r.IntN(3) == 0 {
			parts[n-1] = ">"
		}
		return strings.Join(parts, ".")
	}
	var w wildIndex
	w.init()
	cs := &connState{}
	var patterns []string
	for range 200 {
		p := word(true)
		if _, dup := w.byName[p]; dup {
			continue
		}
		s, _ := w.add(p, cs)
		if s.name != p {
			t.Fatal("wrong set")
		}
		patterns = append(patterns, p)
	}
	for range 500 {
		topic := word(false)
		var want []string
		for _, p := range patterns {
			if Match(p, topic) {
				want = append(want, p)
			}
		}
		slices.Sort(want)
		if got := treeMatches(&w, topic); !slices.Equal(got, want) {
			t.Fatalf("topic %q: tree %q, Match %q", topic, got, want)
		}
	}
	for _, p := range patterns {
		if !w.remove(w.byName[p], cs) {
			t.Fatalf("removing %q: not last", p)
		}
	}
	if !w.root.empty() || len(w.byName) != 0 || w.n.Load() != 0 {
		t.Fatalf("tree not empty after removing every pattern: %+v", w.root)
	}
}

// FuzzMatch checks the pattern tree against Match for one pattern and one
// topic, and that names of any bytes are refused or accepted without panic.
func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"a.*", "a.b"}, {"a.>", "a.b.c"}, {">", "x"}, {"*.*", "a.b"},
		{"a..b", "a"}, {"a.>.b", "a.x.b"}, {"*", ""}, {"a*", "a*"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, topic string) {
		pw, perr := checkName(pattern, 256, 16)
		tw, terr := checkName(topic, 256, 16)
		if perr != nil || terr != nil || tw {
			return
		}
		var w wildIndex
		w.init()
		cs := &connState{}
		var want []string
		if pw {
			w.add(pattern, cs)
			if Match(pattern, topic) {
				want = []string{pattern}
			}
		} else if Match(pattern, topic) != (pattern == topic) {
			t.Fatalf("Match(%q, %q) without wildcards is not equality", pattern, topic)
		}
		if got := treeMatches(&w, topic); !slices.Equal(got, want) {
			t.Fatalf("pattern %q topic %q: tree %q, Match %v", pattern, topic, got, want)
		}
		if pw {
			w.remove(w.byName[pattern], cs)
			if !w.root.empty() {
				t.Fatalf("tree not empty after removing %q", pattern)
			}
		}
	})
}
