package p

var y = g() // undefined: only a check of the test files finds it
