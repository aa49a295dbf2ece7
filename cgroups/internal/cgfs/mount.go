package cgfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/mountinfo"
	"github.com/rtproject/rt/internal/proccgroup"
)

// Mode is how the host mounts cgroups.
type Mode int

const (
	// Legacy: only v1 hierarchies.
	Legacy Mode = iota + 1
	// Hybrid: v1 controllers plus a cgroup2 mount (usually
	// /sys/fs/cgroup/unified) holding whatever v1 did not take.
	Hybrid
	// Unified: cgroup2 mounted on /sys/fs/cgroup.
	Unified
)

// MarshalText writes the mode by name (String), as a container's state
// records it.
func (m Mode) MarshalText() ([]byte, error) {
	if m.String() == "unknown" {
		return nil, fmt.Errorf("cgroup mode %d is unknown", int(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText reads a mode written by MarshalText.
func (m *Mode) UnmarshalText(b []byte) error {
	for _, mode := range []Mode{Legacy, Hybrid, Unified} {
		if string(b) == mode.String() {
			*m = mode
			return nil
		}
	}
	return fmt.Errorf("unknown cgroup mode %q", b)
}

func (m Mode) String() string {
	switch m {
	case Legacy:
		return "legacy"
	case Hybrid:
		return "hybrid"
	case Unified:
		return "unified"
	}
	return "unknown"
}

// Mount is one cgroup hierarchy mounted on the host.
type Mount struct {
	Point string // where it is mounted
	Root  string // the hierarchy path shown at Point ("/" unless bind- or namespace-mounted)
}

// Host describes the cgroup mounts rt sees and its own cgroups.
type Host struct {
	Mode Mode
	// V1 maps a controller name ("memory", "cpu", "name=systemd") to its
	// mount; co-mounted controllers share one Mount.
	V1 map[string]Mount
	// V2 is the cgroup2 mount, empty Point when there is none.
	V2 Mount
	// Own maps a controller (v1) or "" (v2) to rt's own cgroup path as
	// /proc/self/cgroup shows it.
	Own map[string]string
}

var (
	hostOnce sync.Once
	host     *Host
	hostErr  error
)

// Detect reads the host's cgroup layout once per process.
func Detect() (*Host, error) {
	hostOnce.Do(func() {
		host, hostErr = detect("/proc/self/mountinfo", "/proc/self/cgroup")
	})
	return host, hostErr
}

func detect(mountinfo, selfCgroup string) (*Host, error) {
	h := &Host{V1: map[string]Mount{}}
	if err := parseMountinfo(mountinfo, h); err != nil {
		return nil, err
	}
	own, err := ParseCgroupFile(selfCgroup)
	if err != nil {
		return nil, err
	}
	h.Own = own
	h.Mode = modeOf(h)
	return h, nil
}

func modeOf(h *Host) Mode {
	var st unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return Unified
	}
	if h.V2.Point != "" && len(h.V1) > 0 {
		return Hybrid
	}
	if h.V2.Point != "" {
		return Unified
	}
	return Legacy
}

// parseMountinfo fills h.V1 and h.V2 from the mount table at path.
func parseMountinfo(path string, h *Host) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read mounts: %w", err)
	}
	defer f.Close()
	mounts, err := mountinfo.Parse(f)
	if err != nil {
		return fmt.Errorf("read mounts: %w", err)
	}
	for _, mi := range mounts {
		m := Mount{Point: mi.Point, Root: mi.Root}
		switch mi.FSType {
		case "cgroup2":
			// The first cgroup2 mount wins: later ones are usually
			// container bind mounts of the same hierarchy.
			if h.V2.Point == "" {
				h.V2 = m
			}
		case "cgroup":
			for _, opt := range mi.SuperOptions {
				if opt == "rw" || opt == "ro" || strings.HasPrefix(opt, "release_agent=") ||
					opt == "clone_children" || opt == "noprefix" || opt == "xattr" || opt == "cpuset_v2_mode" || opt == "favordynmods" {
					continue
				}
				if _, seen := h.V1[opt]; !seen {
					h.V1[opt] = m
				}
			}
		}
	}
	return nil
}

// ParseCgroupFile parses /proc/<pid>/cgroup into controller → path; the
// v2 entry ("0::/path") is under "".
func ParseCgroupFile(path string) (map[string]string, error) {
	hs, err := proccgroup.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read own cgroups: %w", err)
	}
	return proccgroup.ByController(hs), nil
}

// Dir is the absolute directory of the cgroup at hierarchy path p (as in
// /proc/self/cgroup or an absolute cgroupsPath) on mount m.
func (m Mount) Dir(p string) string {
	p = filepath.Clean("/" + p)
	if m.Root != "/" && m.Root != "" {
		if rel, err := filepath.Rel(m.Root, p); err == nil && !strings.HasPrefix(rel, "..") {
			p = "/" + rel
		}
	}
	return filepath.Join(m.Point, p)
}

// Resolve turns a cgroupsPath into a hierarchy path: absolute paths stay,
// relative ones are taken below own (rt's own cgroup in that hierarchy).
func Resolve(path, own string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	return filepath.Join("/", own, path)
}
