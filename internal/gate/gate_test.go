package gate

import (
	"sync/atomic"
	"testing"
)

func TestGateRefusesAfterClose(t *testing.T) {
	var g Gate
	var ran atomic.Int32
	release := make(chan struct{})
	if !g.Go(func() { <-release; ran.Add(1) }) {
		t.Fatal("goFn refused before close")
	}
	if !g.Close() || g.Close() {
		t.Fatal("close must report true exactly once")
	}
	if g.Go(func() { ran.Add(100) }) {
		t.Fatal("goFn started a goroutine after close")
	}
	close(release)
	g.Wait()
	if n := ran.Load(); n != 1 {
		t.Fatalf("ran = %d, want 1 (the goroutine started before close, and only it)", n)
	}
}

// goFn racing close and wait never trips the race detector's WaitGroup check.
func TestGateConcurrentCloseAndGo(t *testing.T) {
	for i := 0; i < 100; i++ {
		var g Gate
		done := make(chan struct{})
		go func() {
			for g.Go(func() {}) {
			}
			close(done)
		}()
		g.Close()
		g.Wait()
		<-done
	}
}
