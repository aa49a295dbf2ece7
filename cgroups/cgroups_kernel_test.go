//go:build kernel

// These tests make real cgroups and load device programs: they need root
// and run with the kernel tests of the integration suite.

package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/cgroups/fs2"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
	"github.com/rtproject/rt/cgroups/internal/cgtest"
)

func TestKernelLifecycle(t *testing.T) {
	cgtest.NeedRoot(t)
	c := Config{Name: "ctr", Path: cgtest.Name(t) + "/ctr"}
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	pid, stop := cgtest.StartBusy(t)
	if err := m.Apply(pid); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(); m.Destroy() })
	h, _ := cgfs.Detect()
	paths := m.Paths()
	if h.Mode != Legacy {
		if _, ok := paths[""]; !ok {
			t.Errorf("paths %v lack the cgroup2 directory", paths)
		}
	}
	if err := m.Set(&specs.LinuxResources{
		Pids:    &specs.LinuxPids{Limit: ptr(int64(64))},
		Devices: append([]specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}, DefaultAllowedDevices()...),
	}); err != nil {
		t.Fatal(err)
	}

	loaded, err := Load(c, paths)
	if err != nil {
		t.Fatal(err)
	}
	pids, err := loaded.Pids()
	if err != nil || !slices.Contains(pids, pid) {
		t.Fatalf("loaded manager's Pids = %v, %v; want %d", pids, err, pid)
	}
	s, err := loaded.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Pids.Current == 0 || s.Pids.Limit != 64 {
		t.Errorf("pids stats = %+v, want current > 0 and limit 64", s.Pids)
	}
	// An occupied cgroup is not removed: Destroy kills nothing.
	if err := loaded.Destroy(); err == nil {
		t.Errorf("Destroy succeeded with a live process inside")
	}
	stop()
	if err := loaded.Destroy(); err != nil {
		t.Fatal(err)
	}
	for k, dir := range paths {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%q: %s left behind", k, dir)
		}
		// The parent is never the container's: the test made it.
		if err := os.Remove(filepath.Dir(dir)); err != nil {
			t.Errorf("%q: parent of %s: %v", k, dir, err)
		}
	}
}

// TestKernelDefaultDevicesLoad: the default rules compile into a device
// program the kernel accepts.
func TestKernelDefaultDevicesLoad(t *testing.T) {
	cgtest.NeedRoot(t)
	insns, err := fs2.DeviceFilter(append([]specs.LinuxDeviceCgroup{{Access: "rwm"}}, DefaultAllowedDevices()...))
	if err != nil {
		t.Fatal(err)
	}
	fd, err := fs2.LoadDeviceFilter(insns)
	if err != nil {
		t.Fatalf("kernel refuses the device program: %v", err)
	}
	unix.Close(fd)
}

func ptr[T any](v T) *T { return &v }
