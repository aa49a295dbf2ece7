package libcontainer

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestWriteStateIsAtomic(t *testing.T) {
	dir := t.TempDir()
	old := &State{ID: "c1", Bundle: "/old"}
	if err := writeState(dir, old); err != nil {
		t.Fatal(err)
	}
	// A crash between writing the temporary file and the rename leaves a
	// stray temporary file: readers still see the old, whole state.
	tmp, err := os.CreateTemp(dir, "."+stateFile+".*")
	if err != nil {
		t.Fatal(err)
	}
	tmp.WriteString(`{"id":"c1","bundle":"/new","trunc`)
	tmp.Close()
	got, err := readState(dir)
	if err != nil || got.Bundle != "/old" {
		t.Fatalf("after an interrupted write: %+v, %v", got, err)
	}
	if err := writeState(dir, &State{ID: "c1", Bundle: "/new"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := readState(dir); got.Bundle != "/new" {
		t.Errorf("after a complete write: %+v", got)
	}
	if st, _ := os.Stat(filepath.Join(dir, stateFile)); st.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v", st.Mode().Perm())
	}
}

func TestLockDirSerialises(t *testing.T) {
	dir := t.TempDir()
	first, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	acquired := make(chan struct{})
	go func() {
		second, err := lockDir(dir)
		if err == nil {
			second.Close()
		}
		close(acquired)
	}()
	select {
	case <-acquired:
		t.Fatal("a second lock was granted while the first was held")
	case <-time.After(100 * time.Millisecond):
	}
	first.Close()
	<-acquired
}

func TestLockDirOfRemovedContainer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c1")
	os.Mkdir(dir, 0o700)
	first, _ := lockDir(dir)
	done := make(chan error, 1)
	go func() {
		l, err := lockDir(dir)
		if err == nil {
			l.Close()
		}
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	// A delete removes the directory while another command waits for its lock.
	os.Remove(dir)
	first.Close()
	if err := <-done; !os.IsNotExist(err) {
		t.Errorf("lock of a removed container: %v, want not-exist", err)
	}
}

func TestReadStateSummary(t *testing.T) {
	full := &State{ID: "c1", Bundle: "/b", Rootfs: "/b/rootfs", InitPid: 42, InitStartTime: 7, Owner: "root",
		CgroupPaths: map[string]string{"memory": "/sys/fs/cgroup/memory/x/c1"}, CgroupExisting: []string{"memory"},
		Config: &specs.Spec{
			Version:     "1.2.0",
			Annotations: map[string]string{"a": "1"},
			Process:     &specs.Process{Args: []string{"sh"}, Cwd: "/"},
			Mounts:      []specs.Mount{{Destination: "/proc", Type: "proc"}},
			Hooks:       &specs.Hooks{Poststart: []specs.Hook{{Path: "/bin/true", Args: []string{"true"}}}},
			Linux: &specs.Linux{CgroupsPath: "x/c1", Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}},
				Resources: &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: new(int64(5))}}},
		}}
	tests := []struct {
		name  string
		state *State
		want  *specs.Spec
	}{
		{"annotations, hooks, cgroupsPath and namespaces only", full, &specs.Spec{Annotations: map[string]string{"a": "1"},
			Hooks: &specs.Hooks{Poststart: []specs.Hook{{Path: "/bin/true", Args: []string{"true"}}}},
			Linux: &specs.Linux{CgroupsPath: "x/c1", Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}}}}},
		{"no linux", &State{ID: "c2", Config: &specs.Spec{Annotations: map[string]string{"b": "2"}}}, &specs.Spec{Annotations: map[string]string{"b": "2"}}},
		{"a create in progress has no spec yet", &State{ID: "c3", Creating: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := writeState(dir, tt.state); err != nil {
				t.Fatal(err)
			}
			got, err := readStateSummary(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Config, tt.want) {
				t.Errorf("spec %+v, want %+v", got.Config, tt.want)
			}
			wantRest := *tt.state
			wantRest.Config, got.Config = nil, nil
			if !reflect.DeepEqual(*got, wantRest) {
				t.Errorf("state %+v, want %+v", *got, wantRest)
			}
		})
	}
}

// TestSummaryDescribesAsFullState: state, list, start, kill and delete load a
// summary of the spec (readStateSummary). What they read of it, the cgroup
// configuration (the freezer's state, the cgroups to remove), the OCI state
// (hooks' input), the hooks and whether the container has its own pid
// namespace, must come out the same as from the whole spec; a field one of
// them starts to read that the summary leaves out fails here. Config reads
// the whole spec.
func TestSummaryDescribesAsFullState(t *testing.T) {
	r := &Runtime{Root: t.TempDir()}
	st := &State{ID: "c1", Bundle: "/b", Rootfs: "/b/rootfs", Owner: "root", SystemdCgroup: true, Rootless: true,
		CgroupPaths: map[string]string{"memory": "/sys/fs/cgroup/memory/x/c1"}, CgroupExisting: []string{"memory"},
		Config: &specs.Spec{
			Version:     specs.Version,
			Annotations: map[string]string{"org.example": "1"},
			Hostname:    "h",
			Process:     &specs.Process{Args: []string{"sh"}, Cwd: "/"},
			Hooks:       &specs.Hooks{Poststart: []specs.Hook{{Path: "/bin/echo", Args: []string{"echo", "started"}}}, Poststop: []specs.Hook{{Path: "/bin/true"}}},
			Linux: &specs.Linux{CgroupsPath: "system.slice:rt:c1", Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace, Path: "/proc/1/ns/net"}},
				Resources: &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: new(int64(5))}}},
		}}
	if err := os.MkdirAll(r.dir(st.ID), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := writeState(r.dir(st.ID), st); err != nil {
		t.Fatal(err)
	}
	full, err := r.loadWith(st.ID, false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	summary, err := r.loadWith(st.ID, false, true)
	if err != nil {
		t.Fatal(err)
	}
	defer summary.Close()
	if got, want := summary.cgroupConfig(), full.cgroupConfig(); !reflect.DeepEqual(got, want) {
		t.Errorf("cgroup config from the summary %+v, from the whole spec %+v", got, want)
	}
	if got, want := summary.OCIState(), full.OCIState(); !reflect.DeepEqual(got, want) {
		t.Errorf("OCI state from the summary %+v, from the whole spec %+v", got, want)
	}
	if got, want := summary.state.Config.Hooks, full.state.Config.Hooks; !reflect.DeepEqual(got, want) {
		t.Errorf("hooks from the summary %+v, from the whole spec %+v", got, want)
	}
	if got, want := summary.sharesPidNamespace(), full.sharesPidNamespace(); got != want {
		t.Errorf("shares a pid namespace: %v from the summary, %v from the whole spec", got, want)
	}
	if got, want := summary.Config(), full.Config(); !reflect.DeepEqual(got, want) {
		t.Errorf("Config of a summary %+v, want the whole spec %+v", got, want)
	}
}

// TestSummaryConfigUnreadable: when the whole spec cannot be read back,
// Config of a summary keeps saying it is partial, which Update refuses to
// write back as the container's state.
func TestSummaryConfigUnreadable(t *testing.T) {
	r := &Runtime{Root: t.TempDir()}
	st := &State{ID: "c1", Config: &specs.Spec{Annotations: map[string]string{"a": "1"}, Hostname: "h"}}
	if err := os.MkdirAll(r.dir(st.ID), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := writeState(r.dir(st.ID), st); err != nil {
		t.Fatal(err)
	}
	c, err := r.loadWith(st.ID, false, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(r.dir(st.ID), stateFile)); err != nil {
		t.Fatal(err)
	}
	if spec := c.Config(); !c.partial || spec.Hostname != "" {
		t.Errorf("Config after state.json went: partial %v, spec %+v; want the summary, still partial", c.partial, spec)
	}
}
