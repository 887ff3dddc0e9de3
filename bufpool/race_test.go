//go:build race

package bufpool

// raceEnabled reports a -race build. sync.Pool deliberately drops a share of
// Puts under the race detector, so allocation counts are meaningless there.
const raceEnabled = true
