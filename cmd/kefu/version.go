package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
)

// version is set at release build time: go build -ldflags "-X main.version=v1.2.3". Without it the
// module version (go install …@v1.2.3) or "dev" is reported, with the VCS revision Go records.
var version = ""

// commit is the VCS revision when the toolchain cannot record it: the Docker build has no .git
// (.dockerignore), so the Dockerfile passes it: -ldflags "-X main.commit=$COMMIT".
var commit = ""

func init() {
	commands["version"] = command{run: runVersion} // summary: cli.cmd.version
}

// BuildInfo describes this binary (kefu version, the first log line, the kefu_build_info metric).
type BuildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	BuildTime string `json:"build_time,omitempty"`
	Modified  bool   `json:"modified,omitempty"` // built from a tree with uncommitted changes
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// buildInfo reads the ldflags version and what the Go toolchain recorded (runtime/debug).
func buildInfo() BuildInfo {
	bi := BuildInfo{Version: version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if info, ok := debug.ReadBuildInfo(); ok {
		if bi.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			bi.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				bi.Commit = s.Value
			case "vcs.time":
				bi.BuildTime = s.Value
			case "vcs.modified":
				bi.Modified = s.Value == "true"
			}
		}
	}
	if bi.Commit == "" {
		bi.Commit = commit
	}
	if bi.Version == "" {
		bi.Version = "dev"
	}
	return bi
}

// String is the one-line form: "kefu v1.2.3 (commit 1a2b3c4d5e6f, 2026-12-03T10:00:00Z, go1.26.8 linux/amd64)".
func (b BuildInfo) String() string {
	commit := b.Commit
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if commit == "" {
		commit = "unknown"
	}
	if b.Modified {
		commit += "+dirty"
	}
	s := "kefu " + b.Version + " (commit " + commit
	if b.BuildTime != "" {
		s += ", " + b.BuildTime
	}
	return s + ", " + b.GoVersion + " " + b.Platform + ")"
}

func runVersion(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	bi := buildInfo()
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(bi)
	}
	fmt.Println(bi.String())
	return nil
}
