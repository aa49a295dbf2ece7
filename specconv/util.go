package specconv

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func indexed(field string, i int) string {
	return fmt.Sprintf("%s[%d]", field, i)
}

func keyed(field, key string) string {
	return fmt.Sprintf("%s[%q]", field, key)
}

// checkAbsolute reports a missing or relative path the spec requires to be absolute.
func checkAbsolute(field, path string) error {
	if path == "" {
		return fmt.Errorf("%s: missing", field)
	}
	if !filepath.IsAbs(path) {
		return fmt.Errorf("%s: %q is not absolute", field, path)
	}
	return nil
}

// checkNoNUL rejects strings that cannot be passed to execve or mount, which take C strings.
func checkNoNUL(field, s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%s: contains a NUL byte", field)
	}
	return nil
}
