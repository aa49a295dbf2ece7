package fs1

import (
	"os"
	"path/filepath"
	"testing"
)

// Two containers sharing a new parent level are created in parallel: the
// one that made the parent has not filled its cpus and mems yet when the
// other fills its own cgroup from it. The parent is filled first (from its
// own parent), so the container's cpuset is never left empty.
func TestCopyParentCpusetFillsAnEmptyParent(t *testing.T) {
	root := t.TempDir()
	write := func(dir, file, v string) {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	parent, leaf := filepath.Join(root, "bench"), filepath.Join(root, "bench", "c1")
	for _, f := range []struct{ dir, cpus, mems string }{
		{root, "0-1\n", "0\n"},
		{parent, "", ""},
		{leaf, "", ""},
	} {
		write(f.dir, "cpuset.cpus", f.cpus)
		write(f.dir, "cpuset.mems", f.mems)
	}
	if err := copyParentCpuset(leaf); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{parent, leaf} {
		for file, want := range map[string]string{"cpuset.cpus": "0-1", "cpuset.mems": "0"} {
			got, _ := os.ReadFile(filepath.Join(dir, file))
			if string(got) != want {
				t.Errorf("%s/%s = %q, want %q", dir, file, got, want)
			}
		}
	}
}
