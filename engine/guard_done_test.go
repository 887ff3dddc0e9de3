package engine

// doneGuarded: write.go and close.go call done callbacks through c.callDone.
const doneGuarded = false
