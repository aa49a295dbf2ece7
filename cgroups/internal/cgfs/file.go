// Package cgfs holds what every cgroup driver shares: reading and writing
// interface files, the host's cgroup mounts, and the stats types.
package cgfs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Write writes value to the interface file dir/file. The file must exist:
// cgroup files are never created, so a missing file means the kernel lacks
// the knob.
func Write(dir, file, value string) error {
	path := filepath.Join(dir, file)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("write %q to %s: %w", value, path, err)
	}
	defer f.Close()
	// One write call: the kernel parses each write(2) as a whole.
	if _, err := f.Write([]byte(value)); err != nil {
		return fmt.Errorf("write %q to %s: %w", value, path, err)
	}
	return nil
}

// Read returns the content of dir/file without the trailing newline.
func Read(dir, file string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\n"), nil
}

// Exists reports whether the interface file dir/file exists.
func Exists(dir, file string) bool {
	_, err := os.Stat(filepath.Join(dir, file))
	return err == nil
}

// ParseUint parses a counter; "max" is math.MaxUint64, and negative values
// (v1 reports -1 for unlimited in some files) are clamped to 0.
func ParseUint(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "max" {
		return math.MaxUint64, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		if i, ierr := strconv.ParseInt(s, 10, 64); ierr == nil && i < 0 {
			return 0, nil
		}
		return 0, fmt.Errorf("parse %q: %w", s, err)
	}
	return v, nil
}

// ReadUint reads a single-number file.
func ReadUint(dir, file string) (uint64, error) {
	s, err := Read(dir, file)
	if err != nil {
		return 0, err
	}
	v, err := ParseUint(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", filepath.Join(dir, file), err)
	}
	return v, nil
}

// ReadKeyValues reads a flat-keyed file ("key value" per line, as
// memory.stat or cpu.stat).
func ReadKeyValues(dir, file string) (map[string]uint64, error) {
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return nil, err
	}
	m := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		n, err := ParseUint(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, file), err)
		}
		m[k] = n
	}
	return m, nil
}

// IsNotExist reports whether err says a file or cgroup is missing.
func IsNotExist(err error) bool {
	return errors.Is(err, os.ErrNotExist)
}

// Procs lists the pids in dir/cgroup.procs and in every cgroup below it.
func Procs(dir string) ([]int, error) {
	var pids []int
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			// A child cgroup removed while walking is not an error.
			if IsNotExist(err) && path != dir {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		s, err := Read(path, "cgroup.procs")
		if err != nil {
			if IsNotExist(err) && path != dir {
				return nil
			}
			return fmt.Errorf("read pids of %s: %w", path, err)
		}
		for _, f := range strings.Fields(s) {
			pid, err := strconv.Atoi(f)
			if err != nil {
				return fmt.Errorf("%s/cgroup.procs: %w", path, err)
			}
			pids = append(pids, pid)
		}
		return nil
	})
	return pids, err
}

// ParseList parses a cpuset list ("0-3,7") into its members.
func ParseList(s string) ([]uint16, error) {
	var out []uint16
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("parse list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 16); err != nil {
				return nil, fmt.Errorf("parse list %q: %w", s, err)
			}
		}
		if b < a {
			return nil, fmt.Errorf("parse list %q: decreasing range %s", s, part)
		}
		for i := a; i <= b; i++ {
			out = append(out, uint16(i))
		}
	}
	return out, nil
}

// IsPermission reports whether err is the kind a rootless runtime meets on
// cgroups it was not delegated: such errors are skipped when rootless.
func IsPermission(err error) bool {
	return errors.Is(err, os.ErrPermission) || errors.Is(err, unix.EROFS)
}

// PidsMax is the pids.max value for linux.resources.pids.limit: a negative
// limit is none ("max"), and 0 is a limit of 0, as the runtime-spec says it
// SHOULD be (runc 1.5 writes 1 instead, for systemd's sake; both leave the
// container unable to fork, and 0 is the spec's).
func PidsMax(limit int64) string {
	if limit < 0 {
		return "max"
	}
	return strconv.FormatInt(limit, 10)
}
