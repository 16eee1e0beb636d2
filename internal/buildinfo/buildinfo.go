// Package buildinfo says which build of a tickerfan binary is running, for
// the -version flag of every command: the module version and the VCS
// revision Go stamped into the binary (runtime/debug.ReadBuildInfo).
package buildinfo

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// String describes the running binary as "NAME VERSION (revision REV[,
// modified], TIME) GOVERSION". A build without VCS stamping (go run, go test,
// GOFLAGS=-buildvcs=false, a tree outside git) says "revision unknown".
func String(name string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return name + " (no build information in the binary)"
	}
	return describe(name, info)
}

func describe(name string, info *debug.BuildInfo) string {
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	vcs := "revision unknown (built without VCS information)"
	if rev := settings["vcs.revision"]; rev != "" {
		parts := []string{"revision " + rev}
		if settings["vcs.modified"] == "true" {
			parts = append(parts, "modified")
		}
		if t := settings["vcs.time"]; t != "" {
			parts = append(parts, t)
		}
		vcs = strings.Join(parts, ", ")
	}
	return fmt.Sprintf("%s %s (%s) %s", name, version, vcs, info.GoVersion)
}
