package kernel

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// The Host calls that change nothing run as any user.
func TestHost(t *testing.T) {
	f, err := os.Open("/")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	id, root, err := Host{}.MountID(int(f.Fd()))
	if err != nil || id == 0 || !root {
		t.Errorf("MountID(/) = %d, %v, %v; want the root of a mount", id, root, err)
	}
	mounts, err := Host{}.Mountinfo()
	found := false
	for _, m := range mounts {
		found = found || m.ID == id
	}
	if err != nil || !found {
		t.Errorf("mount %d of / not in Mountinfo (%v)", id, err)
	}
	if b, err := (Host{}).ReadProc("self/status"); err != nil || !strings.Contains(string(b), "Pid:") {
		t.Errorf("ReadProc(self/status): %v", err)
	}
	if _, err := (Host{}).OwnCgroups(); err != nil {
		t.Errorf("OwnCgroups: %v", err)
	}
	var lim unix.Rlimit
	if err := (Host{}).Prlimit(0, unix.RLIMIT_NOFILE, nil, &lim); err != nil || lim.Max == 0 {
		t.Errorf("Prlimit get: %+v, %v", lim, err)
	}
}

type fake struct {
	Host
	mounts int
}

func (f *fake) Mount(source, target, fstype string, flags uintptr, data string) error {
	f.mounts++
	return nil
}

func TestSwap(t *testing.T) {
	f := &fake{}
	restore := Swap(f)
	if err := Mount("none", "/nonexistent", "tmpfs", 0, ""); err != nil || f.mounts != 1 {
		t.Errorf("swapped Mount: %v, %d calls", err, f.mounts)
	}
	restore()
	if _, ok := current.(Host); !ok {
		t.Errorf("restore left %T", current)
	}
}
