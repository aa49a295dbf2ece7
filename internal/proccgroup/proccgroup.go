// Package proccgroup parses /proc/<pid>/cgroup (cgroups(7)), the one
// parser of it the runtime (cgroup paths) and the init (cgroup mounts) share.
package proccgroup

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// Hierarchy is one line: the process's cgroup in one hierarchy.
type Hierarchy struct {
	// Controllers of a v1 hierarchy as the kernel lists them ("memory",
	// "cpu,cpuacct", "name=systemd"); "" for cgroup v2.
	Controllers string
	// Path is the cgroup, relative to the root of the hierarchy (or of
	// the reader's cgroup namespace).
	Path string
}

// Unified reports whether h is the cgroup v2 hierarchy.
func (h Hierarchy) Unified() bool { return h.Controllers == "" }

// ReadFile parses a /proc/<pid>/cgroup file.
func ReadFile(path string) ([]Hierarchy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	hs, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return hs, nil
}

// Parse parses the lines "id:controllers:path".
func Parse(r io.Reader) ([]Hierarchy, error) {
	var out []Hierarchy
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if sc.Text() == "" {
			continue
		}
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("malformed line %q", sc.Text())
		}
		out = append(out, Hierarchy{Controllers: parts[1], Path: parts[2]})
	}
	return out, sc.Err()
}

// ByController maps every controller ("memory", "cpu", "name=systemd") to
// its path, and "" to the cgroup v2 path.
func ByController(hs []Hierarchy) map[string]string {
	m := map[string]string{}
	for _, h := range hs {
		if h.Unified() {
			m[""] = h.Path
			continue
		}
		for _, c := range strings.Split(h.Controllers, ",") {
			m[c] = h.Path
		}
	}
	return m
}
