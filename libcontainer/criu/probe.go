package criu

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rtproject/rt/libcontainer/criu/criurpc"
)

// MinVersion is the oldest CRIU rt drives: external pid namespaces (3.15),
// LSM profiles on restore (3.16), and the vDSO of current kernels.
var MinVersion = Version{Major: 3, Minor: 16}

// Version is CRIU's release.
type Version struct {
	Major, Minor, Sublevel int
	// GitID is set for a build from git between releases.
	GitID string
}

// versionOf reads a VERSION reply; one without the version reads as 0.0,
// which is too old.
func versionOf(v *criurpc.Version) Version {
	if v == nil {
		return Version{}
	}
	return Version{Major: int(v.Major), Minor: int(v.Minor), Sublevel: int(v.Sublevel), GitID: v.GitID}
}

// Less orders versions; a git build sorts after the release it was built from.
func (v Version) Less(w Version) bool {
	a := [...]int{v.Major, v.Minor, v.Sublevel}
	b := [...]int{w.Major, w.Minor, w.Sublevel}
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return v.GitID == "" && w.GitID != ""
}

func (v Version) String() string {
	s := fmt.Sprintf("%d.%d", v.Major, v.Minor)
	if v.Sublevel != 0 {
		s += fmt.Sprintf(".%d", v.Sublevel)
	}
	if v.GitID != "" {
		s += " (" + v.GitID + ")"
	}
	return s
}

// Info is what Probe learnt about a CRIU.
type Info struct {
	Path    string
	Version Version
	// Features answers the features Probe was asked about; nil when none were.
	Features *criurpc.Features
}

// Probe asks the CRIU at path for its version, then has it check that it can
// work on this kernel (what `criu check` does), then, when want is not nil,
// which of those features it has. Nothing is dumped or changed. The error
// says what is missing: CRIU absent or too old, or the check's error lines.
func Probe(path string, want *criurpc.Features) (*Info, error) {
	if path == "" {
		path = "criu"
	}
	resp, err := call(path, &criurpc.Req{Type: criurpc.ReqVersion})
	if err != nil {
		return nil, fmt.Errorf("%w (checkpoint/restore needs CRIU %s or newer; --criu names the binary)", err, MinVersion)
	}
	info := &Info{Path: path, Version: versionOf(resp.Version)}
	if info.Version.Less(MinVersion) {
		return nil, fmt.Errorf("CRIU %s (%s) is too old: checkpoint/restore needs %s or newer", info.Version, path, MinVersion)
	}
	if err := check(info); err != nil {
		return nil, err
	}
	if want != nil {
		resp, err := call(path, &criurpc.Req{Type: criurpc.ReqFeatureCheck, Features: want})
		if err != nil {
			return nil, fmt.Errorf("CRIU %s (%s) feature check: %w", info.Version, path, err)
		}
		// A reply without features has none of them.
		info.Features = &criurpc.Features{}
		if resp.Features != nil {
			info.Features = resp.Features
		}
	}
	return info, nil
}

// call makes one request in a session of its own: CRIU ends a session after
// most requests, keep_open notwithstanding.
func call(path string, req *criurpc.Req) (*criurpc.Resp, error) {
	s, err := Start(Options{Path: path, Timeout: time.Minute})
	if err != nil {
		return nil, err
	}
	resp, err := s.Request(req, nil)
	if cerr := s.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return resp, err
}

// check runs CRIU's self-test with a log in a scratch directory, so that a
// failure can name what it found missing.
func check(info *Info) error {
	dir, err := os.MkdirTemp("", "rt-criu-check.")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	// CRIU opens the directory through its own /proc/<rt>/fd: the fd
	// number is ours.
	opts := &criurpc.Opts{ImagesDirFd: int32(d.Fd()), LogFile: "check.log", LogLevel: 2}
	_, err = call(info.Path, &criurpc.Req{Type: criurpc.ReqCheck, Opts: opts})
	if err == nil {
		return nil
	}
	var cerr *Error
	if errors.As(err, &cerr) {
		if log, rerr := os.ReadFile(filepath.Join(dir, "check.log")); rerr == nil {
			if lines := ErrorLines(string(log), 3); lines != "" {
				return fmt.Errorf("CRIU %s (%s) cannot work on this host: criu check: %s", info.Version, info.Path, lines)
			}
		}
	}
	return fmt.Errorf("CRIU %s (%s) cannot work on this host: %w", info.Version, info.Path, err)
}
