//go:build kernel

// This test mounts over /proc in a mount namespace of its own, in a child
// (childtest): it needs root and runs with the kernel tests.

package procfs

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/childtest"
)

func init() { childtest.Register("redirected", redirected) }

func TestMain(m *testing.M) { childtest.TestMain(m) }

// TestRedirectedProc: a file bound over /proc/self/oom_score_adj and a
// tmpfs over /proc/sys (what a hostile bundle does to the /proc rt writes
// into) change nothing: the writes reach the real files.
func TestKernelRedirectedProc(t *testing.T) {
	out := childtest.Run(t, "redirected")
	if strings.TrimSpace(out) != "ok" {
		t.Errorf("child: %s", out)
	}
}

func redirected() error {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return err
	}
	if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
		return err
	}
	decoy, err := os.CreateTemp("", "decoy")
	if err != nil {
		return err
	}
	defer os.Remove(decoy.Name())
	decoy.Close()
	if err := unix.Mount(decoy.Name(), "/proc/self/oom_score_adj", "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind the decoy: %w", err)
	}
	if err := unix.Mount("tmpfs", "/proc/sys", "tmpfs", 0, ""); err != nil {
		return fmt.Errorf("tmpfs on /proc/sys: %w", err)
	}
	if err := WriteSelf("oom_score_adj", []byte("7")); err != nil {
		return err
	}
	if b, _ := os.ReadFile(decoy.Name()); len(b) != 0 {
		return fmt.Errorf("the write went to the decoy: %q", b)
	}
	if b, err := ReadSelf("oom_score_adj"); err != nil || strings.TrimSpace(string(b)) != "7" {
		return fmt.Errorf("oom_score_adj through procfs: %q, %v", b, err)
	}
	// A read of a real sysctl works below the tmpfs.
	host, err := read(root, "sys/kernel/ostype")
	if err != nil || strings.TrimSpace(string(host)) != "Linux" {
		return fmt.Errorf("kernel.ostype: %q, %v", host, err)
	}
	fmt.Println("ok")
	return nil
}
