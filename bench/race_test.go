//go:build race

package bench

// raceEnabled is set under the race detector, which slows the bench's own
// reading several times over while the server (a separate binary) runs at
// full speed.
const raceEnabled = true
