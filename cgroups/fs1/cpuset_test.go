package fs1

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

// An engine's (or another container's) cpuset level left without cpus and
// mems: from the highest such level down, every level of the container's
// path gets its parent's, so the container's cpuset is never left empty.
func TestEnsureCpusetFillsEmptyLevels(t *testing.T) {
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
	pod, parent, leaf := filepath.Join(root, "pod"), filepath.Join(root, "pod", "bench"), filepath.Join(root, "pod", "bench", "c1")
	for _, f := range []struct{ dir, cpus, mems string }{
		{root, "0-1\n", "0\n"},
		{pod, "", "0\n"},
		{parent, "", ""},
		{leaf, "", ""},
	} {
		write(f.dir, "cpuset.cpus", f.cpus)
		write(f.dir, "cpuset.mems", f.mems)
	}
	if base := cpusetBase(parent); base != root {
		t.Errorf("cpusetBase = %s, want %s", base, root)
	}
	if err := cgfs.Mkdir(cpusetBase(parent), leaf, ensureCpuset); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{pod, parent, leaf} {
		for file, want := range map[string]string{"cpuset.cpus": "0-1", "cpuset.mems": "0"} {
			got, _ := cgfs.Read(dir, file)
			if got != want {
				t.Errorf("%s/%s = %q, want %q", dir, file, got, want)
			}
		}
	}
}
