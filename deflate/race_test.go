//go:build race

package deflate

// raceEnabled reports a -race build. sync.Pool drops a share of Puts under
// the race detector, so allocation counts are meaningless there.
const raceEnabled = true
