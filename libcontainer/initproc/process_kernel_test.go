//go:build kernel

// This test applies a process's attributes for real, in a child
// (childtest): it needs root and runs with the kernel tests of the
// integration suite.

package initproc

import (
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/childtest"
	"github.com/rtproject/rt/libcontainer/internal/initproto"
)

func init() { childtest.Register("init-order", initOrder) }

func TestMain(m *testing.M) { childtest.TestMain(m) }

// TestKernelApplyProcess runs applyProcess, in the order the init uses,
// and checks what the exec'd program (uid 1000) ends up with.
func TestKernelApplyProcess(t *testing.T) {
	out := childtest.Run(t, "init-order")
	for _, want := range []string{
		"Uid:\t1000\t1000\t1000\t1000",
		"Gid:\t1000\t1000\t1000\t1000",
		"Groups:\t10 20 ",
		"CapBnd:\t00000000000025e1",
		"CapEff:\t0000000000000400",
		"CapAmb:\t0000000000000400",
		"NoNewPrivs:\t1",
		"nofile 256 512",
		"oom 300",
		"machine i686",
		"umask 0027",
		"policy 3",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

func initOrder() error {
	p := testProcess()
	cfg := &initproto.Config{
		Mode: initproto.ModeStandard, ID: "rt-order-test", Process: p,
		Spec: &specs.Spec{Linux: &specs.Linux{Personality: &specs.LinuxPersonality{Domain: specs.PerLinux32}}},
	}
	if err := applyProcess(nil, cfg); err != nil {
		return err
	}
	script := `grep -E '^(Uid|Gid|Groups|Cap|NoNewPrivs)' /proc/self/status
echo "nofile $(ulimit -Sn) $(ulimit -Hn)"
echo "oom $(cat /proc/self/oom_score_adj)"
echo "machine $(uname -m)"
echo "umask $(umask)"
set -- $(cat /proc/$$/stat); shift 40; echo "policy $1"`
	return unix.Exec("/bin/sh", []string{"sh", "-c", script}, os.Environ())
}
