package client

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Every shipped message decodes to its type, and Raw is the input.
func TestDecodeTestdata(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	if len(files) < 8 {
		t.Fatalf("testdata holds %d messages", len(files))
	}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		m, err := Decode(data)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		var head struct{ Type string }
		json.Unmarshal(data, &head)
		if m.Type() != head.Type || string(m.Raw()) != string(data) {
			t.Errorf("%s: type %s, raw %q", f, m.Type(), m.Raw())
		}
	}
}

// Decode never panics, and what it accepts is a JSON object of a known type.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, file := range files {
		data, _ := os.ReadFile(file)
		f.Add(data)
	}
	f.Add([]byte(`{"type":"l2update","changes":[["buy","1"]]}`))
	f.Add([]byte(`{"type":"snapshot","bids":[["x","1"]]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			return
		}
		if !json.Valid(data) || m.Type() == "" {
			t.Fatalf("accepted %q as %T", data, m)
		}
		if u, ok := m.(*L2Update); ok {
			var b Book
			b.Sequence = u.Sequence - 1
			b.Apply(u) // must not panic, whatever the changes
			b.Checksum()
		}
	})
}
