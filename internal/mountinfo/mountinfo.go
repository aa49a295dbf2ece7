// Package mountinfo parses /proc/<pid>/mountinfo (proc(5)), the one parser
// of it the runtime (cgroup detection) and the init (rootfs) share.
package mountinfo

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Mount is one line: "id parent major:minor root point options
// [optional…] - fstype source superoptions".
type Mount struct {
	ID, Parent uint64
	// Root is the directory of the filesystem shown at Point.
	Root  string
	Point string
	// Options are the per-mount options ("rw,nosuid").
	Options []string
	// Optional are the tagged fields before "-" ("shared:1", "master:2").
	Optional     []string
	FSType       string
	Source       string
	SuperOptions []string
}

// Shared reports whether the mount is in a shared peer group.
func (m *Mount) Shared() bool {
	for _, o := range m.Optional {
		if strings.HasPrefix(o, "shared:") {
			return true
		}
	}
	return false
}

// HasSuperOption reports whether the filesystem was mounted with option o
// (for cgroup v1: a controller name).
func (m *Mount) HasSuperOption(o string) bool {
	for _, s := range m.SuperOptions {
		if s == o {
			return true
		}
	}
	return false
}

// maxLine bounds a line: a mount point may be up to PATH_MAX, escaped
// four bytes per byte, twice (root and point), plus the rest.
const maxLine = 1 << 20

// Read parses the calling process's mount table.
func Read() ([]Mount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f)
}

// Parse parses a mountinfo table.
func Parse(r io.Reader) ([]Mount, error) {
	var out []Mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxLine)
	for sc.Scan() {
		m, err := parseLine(sc.Text())
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("mountinfo: %w", err)
	}
	return out, nil
}

func parseLine(line string) (Mount, error) {
	fields := strings.Fields(line)
	sep := -1
	for i, f := range fields {
		if f == "-" {
			sep = i
			break
		}
	}
	if sep < 6 || len(fields) < sep+4 {
		return Mount{}, fmt.Errorf("mountinfo: malformed line %q", line)
	}
	id, err := strconv.ParseUint(fields[0], 10, 64)
	if err != nil {
		return Mount{}, fmt.Errorf("mountinfo: bad mount id in %q", line)
	}
	parent, err := strconv.ParseUint(fields[1], 10, 64)
	if err != nil {
		return Mount{}, fmt.Errorf("mountinfo: bad parent id in %q", line)
	}
	return Mount{
		ID:           id,
		Parent:       parent,
		Root:         Unescape(fields[3]),
		Point:        Unescape(fields[4]),
		Options:      strings.Split(fields[5], ","),
		Optional:     fields[6:sep],
		FSType:       fields[sep+1],
		Source:       Unescape(fields[sep+2]),
		SuperOptions: strings.Split(fields[sep+3], ","),
	}, nil
}

// Unescape undoes the octal escapes (\040 for a space, \134 for a
// backslash, …) the kernel writes for bytes that would break the format.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
