// Package field names the fields of config.json in errors
// (`process.rlimits[2].type`, `linux.sysctl["net.ipv4.ip_forward"]`) and
// holds the checks that many fields share. Every validator uses it, so that
// an error names its field the same way wherever it is raised.
package field

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// Index names element i of the array field name.
func Index(name string, i int) string { return fmt.Sprintf("%s[%d]", name, i) }

// Key names the entry key of the object field name.
func Key(name, key string) string { return fmt.Sprintf("%s[%q]", name, key) }

// SortedKeys returns the keys of m in order, so that of several bad
// entries the same one is reported every time.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Absolute reports a missing or relative path where an absolute one is required.
func Absolute(name, path string) error {
	if path == "" {
		return fmt.Errorf("%s: missing", name)
	}
	if !filepath.IsAbs(path) {
		return fmt.Errorf("%s: %q is not absolute", name, path)
	}
	return NoNUL(name, path)
}

// NoNUL rejects strings that cannot reach execve or mount, which take C strings.
func NoNUL(name, s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%s: contains a NUL byte", name)
	}
	return nil
}

// Env checks an environment list: every entry KEY=VALUE with a key.
func Env(name string, env []string) error {
	for i, kv := range env {
		f := Index(name, i)
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return fmt.Errorf("%s: %q is not of the form KEY=VALUE", f, kv)
		}
		if err := NoNUL(f, kv); err != nil {
			return err
		}
	}
	return nil
}
