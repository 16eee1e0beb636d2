package yamlconf_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

// FuzzDecode checks that Decode never panics and always answers nil or an
// *Error holding problems that make sense, the same ones every time.
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata: %v", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{"", "~", "[", "{a: *b}", "server: &x {<<: *x}", "feeds: [~, [], {}]", "\xff\xfe"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := yamlconf.Decode("fuzz.yaml", data, newTestConfig())
		if err == nil {
			return
		}
		var e *yamlconf.Error
		if !errors.As(err, &e) || len(e.Problems) == 0 || err.Error() == "" {
			t.Fatalf("Decode returned %#v, want nil or an *Error with problems", err)
		}
		for _, p := range e.Problems {
			if p.Msg == "" || p.File != "fuzz.yaml" || p.Line < 0 || p.Line > len(data)+2 {
				t.Fatalf("implausible problem %+v in %d bytes", p, len(data))
			}
		}
		again := yamlconf.Decode("fuzz.yaml", data, newTestConfig())
		if !slices.Equal(sortedLines(err), sortedLines(again)) {
			t.Fatalf("decoding twice gave\n%v\nthen\n%v", err, again)
		}
	})
}

// sortedLines returns the problems of err as sorted strings: problems on
// one line from ranging over a map may come in either order.
func sortedLines(err error) []string {
	var e *yamlconf.Error
	if !errors.As(err, &e) {
		return nil
	}
	var out []string
	for _, p := range e.Problems {
		out = append(out, p.String())
	}
	slices.Sort(out)
	return out
}
