package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestDescribe(t *testing.T) {
	cases := []struct {
		name string
		info debug.BuildInfo
		want string
	}{
		{"stamped", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}}},
			"tickerfan v1.2.3 (revision abc123, modified, 2026-12-01T10:00:00Z) go1.26.8"},
		{"clean", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "false"}}},
			"tickerfan v1.2.3 (revision abc123) go1.26.8"},
		{"no vcs (-buildvcs=false)", debug.BuildInfo{GoVersion: "go1.26.8"},
			"tickerfan (devel) (revision unknown (built without VCS information)) go1.26.8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := describe("tickerfan", &tc.info); got != tc.want {
				t.Errorf("describe:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
	if s := String("x"); !strings.HasPrefix(s, "x ") {
		t.Errorf("String = %q", s)
	}
}
