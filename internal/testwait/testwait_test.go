package testwait

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// fakeT records a failure instead of ending the test.
type fakeT struct {
	testing.TB
	msg string
}

func (f *fakeT) Helper() {}

func (f *fakeT) Fatalf(format string, args ...any) { f.msg = fmt.Sprintf(format, args...) }

func TestForReturnsOnceTrue(t *testing.T) {
	n := 0
	For(t, time.Second, "three calls", func() (string, bool) {
		n++
		return fmt.Sprint(n), n == 3
	})
	if n != 3 {
		t.Fatalf("check called %d times, want 3", n)
	}
}

func TestForReportsLastSeen(t *testing.T) {
	f := &fakeT{TB: t}
	n := 0
	For(f, 30*time.Millisecond, "never", func() (string, bool) {
		n++
		return fmt.Sprintf("n=%d", n), false
	})
	if !strings.Contains(f.msg, "never") || !strings.Contains(f.msg, fmt.Sprintf("n=%d", n)) {
		t.Fatalf("failure message %q names neither the condition nor the last value n=%d", f.msg, n)
	}
}
