package system

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// The kernel's mempolicy modes and mode flags (uapi/linux/mempolicy.h);
// golang.org/x/sys lacks the newer modes.
var memoryPolicyModes = map[specs.MemoryPolicyModeType]int{
	specs.MpolDefault:            0,
	specs.MpolPreferred:          1,
	specs.MpolBind:               2,
	specs.MpolInterleave:         3,
	specs.MpolLocal:              4,
	specs.MpolPreferredMany:      5,
	specs.MpolWeightedInterleave: 6,
}

var memoryPolicyFlags = map[specs.MemoryPolicyFlagType]int{
	specs.MpolFNumaBalancing: 1 << 13,
	specs.MpolFRelativeNodes: 1 << 14,
	specs.MpolFStaticNodes:   1 << 15,
}

// maxNUMANodes bounds the node numbers linux.memoryPolicy.nodes may name:
// the kernel's largest MAX_NUMNODES (CONFIG_NODES_SHIFT 10).
const maxNUMANodes = 1024

// nodeMask is the nodemask set_mempolicy(2) reads, a bit per node.
type nodeMask [maxNUMANodes / 64]uint64

func (m *nodeMask) count() int {
	n := 0
	for _, w := range m {
		for ; w != 0; w &= w - 1 {
			n++
		}
	}
	return n
}

// MemoryPolicyModes and MemoryPolicyFlags list what linux.memoryPolicy may
// say, for `rt features`.
func MemoryPolicyModes() []string { return sortedKeys(memoryPolicyModes) }
func MemoryPolicyFlags() []string { return sortedKeys(memoryPolicyFlags) }

func sortedKeys[K ~string](m map[K]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, string(k))
	}
	slices.Sort(out)
	return out
}

// memoryPolicy is linux.memoryPolicy as set_mempolicy(2) takes it.
type memoryPolicy struct {
	mode  int // with the flags
	nodes nodeMask
}

// ValidateMemoryPolicy checks linux.memoryPolicy. The errors carry runc's
// words ("invalid memory policy mode", "… flag", "… nodes", "mode requires
// 0 nodes but got N"), which its tests and users' scripts look for.
func ValidateMemoryPolicy(p *specs.LinuxMemoryPolicy) error {
	_, err := parseMemoryPolicy(p)
	return err
}

func parseMemoryPolicy(p *specs.LinuxMemoryPolicy) (*memoryPolicy, error) {
	if p == nil {
		return nil, nil
	}
	mode, ok := memoryPolicyModes[p.Mode]
	if !ok {
		return nil, fmt.Errorf("linux.memoryPolicy.mode: invalid memory policy mode %q (want one of %s)", p.Mode, strings.Join(MemoryPolicyModes(), ", "))
	}
	mp := &memoryPolicy{mode: mode}
	for i, f := range p.Flags {
		bit, ok := memoryPolicyFlags[f]
		if !ok {
			return nil, fmt.Errorf("linux.memoryPolicy.flags[%d]: invalid memory policy flag %q (want one of %s)", i, f, strings.Join(MemoryPolicyFlags(), ", "))
		}
		mp.mode |= bit
	}
	if err := parseNodes(p.Nodes, &mp.nodes); err != nil {
		return nil, fmt.Errorf("linux.memoryPolicy.nodes: invalid memory policy nodes %q: %w", p.Nodes, err)
	}
	// What set_mempolicy(2) would refuse with a bare EINVAL.
	n := mp.nodes.count()
	switch p.Mode {
	case specs.MpolDefault, specs.MpolLocal:
		if n != 0 {
			return nil, fmt.Errorf("linux.memoryPolicy: %s: memory policy mode requires 0 nodes but got %d", p.Mode, n)
		}
	case specs.MpolBind, specs.MpolInterleave, specs.MpolPreferredMany, specs.MpolWeightedInterleave:
		if n == 0 {
			return nil, fmt.Errorf("linux.memoryPolicy: %s: memory policy mode requires at least one node but got 0", p.Mode)
		}
	}
	if mp.mode&memoryPolicyFlags[specs.MpolFStaticNodes] != 0 && mp.mode&memoryPolicyFlags[specs.MpolFRelativeNodes] != 0 {
		return nil, fmt.Errorf("linux.memoryPolicy.flags: %s and %s exclude each other", specs.MpolFStaticNodes, specs.MpolFRelativeNodes)
	}
	return mp, nil
}

// parseNodes reads a node list in the kernel's list format ("0-3,8"; empty
// elements and spaces around them allowed) into m.
func parseNodes(s string, m *nodeMask) error {
	node := func(v string) (int, error) {
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
		if err != nil {
			return 0, fmt.Errorf("%q is not a node number", v)
		}
		if n >= maxNUMANodes {
			return 0, fmt.Errorf("node %d is above the largest a kernel can have (%d)", n, maxNUMANodes-1)
		}
		return int(n), nil
	}
	for _, r := range strings.Split(s, ",") {
		if strings.TrimSpace(r) == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(r, "-")
		first, err := node(lo)
		if err != nil {
			return err
		}
		last := first
		if isRange {
			if last, err = node(hi); err != nil {
				return err
			}
			if last < first {
				return fmt.Errorf("range %q ends before it starts", r)
			}
		}
		for i := first; i <= last; i++ {
			m[i/64] |= 1 << (i % 64)
		}
	}
	return nil
}

// SetMemoryPolicy applies linux.memoryPolicy to the calling thread with
// set_mempolicy(2). The policy survives execve, and the kernel applies the
// process's later allocations to it; so the init sets it on the thread
// that execs the container's process (its locked main thread).
func SetMemoryPolicy(p *specs.LinuxMemoryPolicy) error {
	mp, err := parseMemoryPolicy(p)
	if err != nil || mp == nil {
		return err
	}
	// maxnode counts one more bit than the kernel reads.
	if err := kernel.SetMempolicy(mp.mode, mp.nodes[:], maxNUMANodes+1); err != nil {
		return fmt.Errorf("linux.memoryPolicy: set_mempolicy %s %v nodes %q: %w", p.Mode, p.Flags, p.Nodes, err)
	}
	return nil
}
