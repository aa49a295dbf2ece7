package initproc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEnterCwd: process.cwd is resolved in the container's root; no
// symlink leads out of it and no magic link is followed.
func TestEnterCwd(t *testing.T) {
	orig, _ := os.Getwd()
	t.Cleanup(func() { os.Chdir(orig) })
	root := t.TempDir()
	cwdRoot = root
	t.Cleanup(func() { cwdRoot = "/" })
	for _, d := range []string{"work", "etc"} {
		os.Mkdir(filepath.Join(root, d), 0o755)
	}
	os.Symlink("../../../../../etc", filepath.Join(root, "up"))
	os.Symlink("/proc/self/fd/0", filepath.Join(root, "magic"))
	devnull, _ := os.Open(os.DevNull)
	defer devnull.Close()
	for cwd, want := range map[string]string{
		"/work":            "/work",
		"/up":              "/etc", // the link's target, inside the root
		"/../../etc":       "/etc",
		"/proc/self/fd/3":  "error",
		"/magic":           "error",
		"/missing":         "error",
		"/work/../../work": "/work",
	} {
		err := enterCwd(cwd)
		got, _ := os.Getwd()
		switch {
		case want == "error" && err == nil:
			t.Errorf("%s: entered %s", cwd, got)
		case want != "error" && err != nil:
			t.Errorf("%s: %v", cwd, err)
		case want != "error" && got != root+want:
			t.Errorf("%s: in %s, want %s", cwd, got, root+want)
		}
		if !strings.HasPrefix(got, root) && err == nil {
			t.Errorf("%s: out of the root: %s", cwd, got)
		}
	}
}
