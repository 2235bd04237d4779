package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// buildInfo is what pgark version reports.
type buildInfo struct {
	Version   string
	Commit    string
	GoVersion string
	Platform  string
}

func (b buildInfo) String() string {
	return fmt.Sprintf("pgark %s (commit %s, %s, %s)", b.Version, b.Commit, b.GoVersion, b.Platform)
}

// readBuildInfo combines the link-time stamps with what the Go toolchain
// recorded in the binary.
func readBuildInfo(version, commit string) buildInfo {
	bi, _ := debug.ReadBuildInfo()
	return resolveBuildInfo(version, commit, bi)
}

// resolveBuildInfo prefers the link-time stamps. A binary built without them
// (go build, go install) falls back to the module version go install records
// and to the VCS revision go build records; bi may be nil.
func resolveBuildInfo(version, commit string, bi *debug.BuildInfo) buildInfo {
	if bi != nil {
		if version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
		if commit == "unknown" {
			var rev, modified string
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					rev = s.Value
				case "vcs.modified":
					modified = s.Value
				}
			}
			if rev != "" {
				commit = rev
				if modified == "true" {
					commit += "-dirty"
				}
			}
		}
	}
	return buildInfo{
		Version:   version,
		Commit:    commit,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
}

func newVersionCmd(info buildInfo) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print pgark's version, commit, Go version and platform",
		Long: `Print pgark's version, the commit it was built from, the Go version that
built it and the platform, on one line. pgark --version and pgark -V print the
same line.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVersion(cmd.OutOrStdout(), info)
		},
	}
}

func runVersion(w io.Writer, info buildInfo) error {
	if _, err := fmt.Fprintln(w, info); err != nil {
		return fmt.Errorf("print version: %w", err)
	}
	return nil
}
