package interop

// weirBugs are the weir bugs this suite found, named in the failures they cause
// until they are fixed. The failures stay failures: a known bug is not a pass.
// When a bug is fixed, its cells pass and its entry goes.

type weirBug struct {
	id, title string
	where     string // file and function
	repro     string
	// badPeer says whether a bad-peer row, in an engine mode ("pool",
	// "goroutine/drip"...), fails because of the bug.
	badPeer func(group, name, mode string) bool
	// cell says the same of a matrix cell.
	cell func(variant, peer, scenario string, r role) bool
}

// BUG-1 (goroutine mode blocked forever writing to a peer that did not read) was
// fixed by a writer goroutine per goroutine-mode connection.
var weirBugs = []weirBug{}

func bugForBadPeer(group, name, mode string) string {
	for _, b := range weirBugs {
		if b.badPeer != nil && b.badPeer(group, name, mode) {
			return b.id
		}
	}
	return ""
}

func bugForCell(variant, peer, scenario string, r role) string {
	for _, b := range weirBugs {
		if b.cell != nil && b.cell(variant, peer, scenario, r) {
			return b.id
		}
	}
	return ""
}
