package fs1

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

const memswLimit = "memory.memsw.limit_in_bytes"

func wantsMemory(r *specs.LinuxResources) string {
	m := r.Memory
	switch {
	case m == nil:
		return ""
	case m.Limit != nil:
		return "memory.limit"
	case m.Reservation != nil:
		return "memory.reservation"
	case m.Swap != nil:
		return "memory.swap"
	case m.Swappiness != nil:
		return "memory.swappiness"
	case m.DisableOOMKiller != nil:
		return "memory.disableOOMKiller"
	}
	return ""
}

func setMemory(dir string, r *specs.LinuxResources) error {
	m := r.Memory
	if m == nil {
		return nil
	}
	if m.CheckBeforeUpdate != nil && *m.CheckBeforeUpdate && m.Limit != nil && *m.Limit > 0 {
		usage, err := cgfs.ReadUint(dir, "memory.usage_in_bytes")
		if err != nil {
			return fmt.Errorf("linux.resources.memory.checkBeforeUpdate: %w", err)
		}
		if uint64(*m.Limit) < usage {
			return fmt.Errorf("linux.resources.memory.limit: %d is below the current usage %d", *m.Limit, usage)
		}
	}
	if err := setMemoryAndSwap(dir, m.Limit, m.Swap); err != nil {
		return err
	}
	if m.Reservation != nil {
		if err := cgfs.Write(dir, "memory.soft_limit_in_bytes", strconv.FormatInt(*m.Reservation, 10)); err != nil {
			return fmt.Errorf("linux.resources.memory.reservation: %w", err)
		}
	}
	// Kernel memory limits are deprecated: newer kernels drop the file or
	// refuse writes. Like runc, rt then goes on without them.
	if m.Kernel != nil {
		if err := writeOptional(dir, "memory.kmem.limit_in_bytes", *m.Kernel); err != nil {
			return fmt.Errorf("linux.resources.memory.kernel: %w", err)
		}
	}
	if m.KernelTCP != nil {
		if err := writeOptional(dir, "memory.kmem.tcp.limit_in_bytes", *m.KernelTCP); err != nil {
			return fmt.Errorf("linux.resources.memory.kernelTCP: %w", err)
		}
	}
	// A swappiness of 2^64-1 is -1 as a uint64: "not set" for old clients.
	if m.Swappiness != nil && *m.Swappiness != math.MaxUint64 {
		if *m.Swappiness > 100 {
			return fmt.Errorf("linux.resources.memory.swappiness: %d is not in [0, 100]", *m.Swappiness)
		}
		if err := cgfs.Write(dir, "memory.swappiness", strconv.FormatUint(*m.Swappiness, 10)); err != nil {
			return fmt.Errorf("linux.resources.memory.swappiness: %w", err)
		}
	}
	if m.DisableOOMKiller != nil {
		if err := cgfs.Write(dir, "memory.oom_control", boolDigit(*m.DisableOOMKiller)); err != nil {
			return fmt.Errorf("linux.resources.memory.disableOOMKiller: %w", err)
		}
	}
	if m.UseHierarchy != nil {
		if err := cgfs.Write(dir, "memory.use_hierarchy", boolDigit(*m.UseHierarchy)); err != nil {
			return fmt.Errorf("linux.resources.memory.useHierarchy: %w", err)
		}
	}
	return nil
}

// setMemoryAndSwap writes the memory and memory+swap limits in the order
// the kernel accepts: memsw may never be below the memory limit, so when
// memsw grows it goes first, and when it shrinks the memory limit goes
// first.
func setMemoryAndSwap(dir string, limit, swap *int64) error {
	if swap != nil && *swap == 0 {
		swap = nil // 0 would mean "no memory at all"; treat as unset
	}
	hasSwap := cgfs.Exists(dir, memswLimit)
	if swap != nil && !hasSwap {
		return fmt.Errorf("linux.resources.memory.swap: swap accounting is off on this host (no %s)", memswLimit)
	}
	// "Unlimited memory" without a swap value means unlimited swap too;
	// otherwise an old memsw limit would cap the memory limit.
	if limit != nil && *limit == -1 && swap == nil && hasSwap {
		unlimited := int64(-1)
		swap = &unlimited
	}
	writeLimit := func() error {
		if limit == nil {
			return nil
		}
		if err := cgfs.Write(dir, "memory.limit_in_bytes", strconv.FormatInt(*limit, 10)); err != nil {
			// EBUSY: the kernel could not reclaim enough to go below the usage.
			if usage, uerr := cgfs.ReadUint(dir, "memory.usage_in_bytes"); errors.Is(err, unix.EBUSY) && uerr == nil {
				return fmt.Errorf("linux.resources.memory.limit: %d is below the current usage %d, which the kernel could not reclaim: %w", *limit, usage, err)
			}
			return fmt.Errorf("linux.resources.memory.limit: %w", err)
		}
		return nil
	}
	if swap == nil {
		return writeLimit()
	}
	writeSwap := func() error {
		if err := cgfs.Write(dir, memswLimit, strconv.FormatInt(*swap, 10)); err != nil {
			return fmt.Errorf("linux.resources.memory.swap: %w", err)
		}
		return nil
	}
	current, err := cgfs.ReadUint(dir, memswLimit)
	if err != nil {
		return fmt.Errorf("linux.resources.memory.swap: %w", err)
	}
	if *swap == -1 || uint64(*swap) > current {
		if err := writeSwap(); err != nil {
			return err
		}
		return writeLimit()
	}
	if err := writeLimit(); err != nil {
		return err
	}
	return writeSwap()
}

// writeOptional writes a knob the kernel may not have or may refuse as
// unsupported; both are not errors.
func writeOptional(dir, file string, v int64) error {
	if !cgfs.Exists(dir, file) {
		return nil
	}
	err := cgfs.Write(dir, file, strconv.FormatInt(v, 10))
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.Errno(524) /* ENOTSUPP */) {
		return nil
	}
	return err
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func statsMemory(dir string, s *cgfs.Stats) error {
	raw, err := cgfs.ReadKeyValues(dir, "memory.stat")
	if err != nil {
		return err
	}
	s.Memory.Raw = raw
	s.Memory.Cache = raw["cache"]
	if s.Memory.Usage, err = memoryEntry(dir, "memory"); err != nil {
		return err
	}
	// The rest are optional: swap accounting and kmem come and go with
	// kernel versions and boot options.
	s.Memory.Swap, _ = memoryEntry(dir, "memory.memsw")
	s.Memory.Kernel, _ = memoryEntry(dir, "memory.kmem")
	s.Memory.KernelTCP, _ = memoryEntry(dir, "memory.kmem.tcp")
	if v, err := cgfs.ReadUint(dir, "memory.use_hierarchy"); err == nil {
		s.Memory.UseHierarchy = v == 1
	}
	return nil
}

func memoryEntry(dir, prefix string) (cgfs.MemoryEntry, error) {
	var e cgfs.MemoryEntry
	for _, f := range []struct {
		suffix string
		dst    *uint64
	}{
		{".usage_in_bytes", &e.Usage},
		{".max_usage_in_bytes", &e.Max},
		{".failcnt", &e.Failcnt},
		{".limit_in_bytes", &e.Limit},
	} {
		v, err := cgfs.ReadUint(dir, prefix+f.suffix)
		if err != nil {
			return e, err
		}
		*f.dst = v
	}
	return e, nil
}
