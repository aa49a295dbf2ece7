//go:build kernel

package system

import (
	"os"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/childtest"
)

func init() { childtest.Register("set-mempolicy", setMempolicy) }

// TestKernelSetMemoryPolicy applies a policy in a child and reads it back from
// numa_maps, as runc's tests do.
func TestKernelSetMemoryPolicy(t *testing.T) {
	out := childtest.Run(t, "set-mempolicy")
	if !strings.HasPrefix(out, "interleave:0") {
		t.Errorf("numa_maps policy %q, want interleave:0", out)
	}
}

func setMempolicy() error {
	if err := SetMemoryPolicy(&specs.LinuxMemoryPolicy{Mode: specs.MpolInterleave, Nodes: "0"}); err != nil {
		return err
	}
	// The policy is the thread's and survives execve: the program exec'd
	// shows it for its first mapping.
	return unix.Exec("/bin/sh", []string{"sh", "-c", `head -n 1 /proc/self/numa_maps | cut -d " " -f 2`}, os.Environ())
}
