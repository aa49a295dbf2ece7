package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups"
	"github.com/sirupsen/logrus"
)

// ErrNotRunning and ErrNotPaused carry runc's messages: scripts and shims
// match on them.
var (
	ErrNotRunning = errors.New("container not running")
	ErrNotPaused  = errors.New("container not paused")
)

// Update merges upd (unset fields keep their current value) into the
// container's linux.resources, writes the result to its cgroup and
// persists it in state.json, so that a later update starts from it.
//
// Device rules are not updated, as with runc: rewriting them would open a
// window in which the container can use no device at all.
func (c *Container) Update(upd *specs.LinuxResources) error {
	if c.Status() == Stopped {
		return ErrNotRunning
	}
	m := c.cgroups()
	if m == nil {
		return fmt.Errorf("container %s has no cgroup to update", c.state.ID)
	}
	if upd.Devices != nil {
		logrus.Warnf("update: linux.resources.devices cannot be updated; ignored")
	}
	spec := c.Config()
	if c.partial {
		// The whole spec could not be read back: writing state.json now
		// would keep only the summary of it.
		return fmt.Errorf("container %s: read its spec before updating it", c.state.ID)
	}
	if spec.Linux == nil {
		spec.Linux = &specs.Linux{}
	}
	// A zero an engine sends for "unchanged" must not replace the value
	// the container has; one stored since create is not written either.
	merged := MergeResources(spec.Linux.Resources, cgroups.WithoutUnset(upd))
	if err := cgroups.ValidateResources(merged); err != nil {
		return err
	}
	set := cgroups.WithoutUnset(merged)
	set.Devices = nil // nil leaves the device cgroup as it is
	if err := m.Set(set); err != nil {
		return err
	}
	// checkBeforeUpdate is a property of this request, not of the container.
	if merged.Memory != nil {
		merged.Memory.CheckBeforeUpdate = nil
	}
	spec.Linux.Resources = merged
	if err := writeState(c.dir, c.state); err != nil {
		return fmt.Errorf("save updated resources: %w", err)
	}
	return nil
}

// MergeResources returns cur with every field set in upd replacing its
// counterpart; neither argument is modified. Per-device and per-page-size
// lists are merged by their key.
func MergeResources(cur, upd *specs.LinuxResources) *specs.LinuxResources {
	out := deepCopyResources(cur)
	if upd == nil {
		return out
	}
	u := deepCopyResources(upd)
	if u.Memory != nil {
		if out.Memory == nil {
			out.Memory = &specs.LinuxMemory{}
		}
		m, n := out.Memory, u.Memory
		setPtr(&m.Limit, n.Limit)
		setPtr(&m.Reservation, n.Reservation)
		setPtr(&m.Swap, n.Swap)
		setPtr(&m.Kernel, n.Kernel)
		setPtr(&m.KernelTCP, n.KernelTCP)
		setPtr(&m.Swappiness, n.Swappiness)
		setPtr(&m.DisableOOMKiller, n.DisableOOMKiller)
		setPtr(&m.UseHierarchy, n.UseHierarchy)
		setPtr(&m.CheckBeforeUpdate, n.CheckBeforeUpdate)
		// An unlimited memory limit without a swap value means unlimited
		// swap too: an old memory+swap limit would otherwise still cap it.
		if n.Limit != nil && *n.Limit == -1 && n.Swap == nil {
			unlimited := int64(-1)
			m.Swap = &unlimited
		}
	}
	if u.CPU != nil {
		if out.CPU == nil {
			out.CPU = &specs.LinuxCPU{}
		}
		c, n := out.CPU, u.CPU
		setPtr(&c.Shares, n.Shares)
		setPtr(&c.Quota, n.Quota)
		setPtr(&c.Burst, n.Burst)
		setPtr(&c.Period, n.Period)
		setPtr(&c.RealtimeRuntime, n.RealtimeRuntime)
		setPtr(&c.RealtimePeriod, n.RealtimePeriod)
		setPtr(&c.Idle, n.Idle)
		if n.Cpus != "" {
			c.Cpus = n.Cpus
		}
		if n.Mems != "" {
			c.Mems = n.Mems
		}
	}
	if u.Pids != nil {
		if out.Pids == nil {
			out.Pids = &specs.LinuxPids{}
		}
		setPtr(&out.Pids.Limit, u.Pids.Limit)
	}
	if u.BlockIO != nil {
		if out.BlockIO == nil {
			out.BlockIO = &specs.LinuxBlockIO{}
		}
		b, n := out.BlockIO, u.BlockIO
		setPtr(&b.Weight, n.Weight)
		setPtr(&b.LeafWeight, n.LeafWeight)
		b.WeightDevice = mergeByKey(b.WeightDevice, n.WeightDevice, func(d specs.LinuxWeightDevice) specs.LinuxBlockIODevice { return d.LinuxBlockIODevice })
		throttleKey := func(d specs.LinuxThrottleDevice) specs.LinuxBlockIODevice { return d.LinuxBlockIODevice }
		b.ThrottleReadBpsDevice = mergeByKey(b.ThrottleReadBpsDevice, n.ThrottleReadBpsDevice, throttleKey)
		b.ThrottleWriteBpsDevice = mergeByKey(b.ThrottleWriteBpsDevice, n.ThrottleWriteBpsDevice, throttleKey)
		b.ThrottleReadIOPSDevice = mergeByKey(b.ThrottleReadIOPSDevice, n.ThrottleReadIOPSDevice, throttleKey)
		b.ThrottleWriteIOPSDevice = mergeByKey(b.ThrottleWriteIOPSDevice, n.ThrottleWriteIOPSDevice, throttleKey)
	}
	out.HugepageLimits = mergeByKey(out.HugepageLimits, u.HugepageLimits, func(h specs.LinuxHugepageLimit) string { return h.Pagesize })
	if u.Network != nil {
		if out.Network == nil {
			out.Network = &specs.LinuxNetwork{}
		}
		setPtr(&out.Network.ClassID, u.Network.ClassID)
		out.Network.Priorities = mergeByKey(out.Network.Priorities, u.Network.Priorities, func(p specs.LinuxInterfacePriority) string { return p.Name })
	}
	if u.Rdma != nil {
		if out.Rdma == nil {
			out.Rdma = map[string]specs.LinuxRdma{}
		}
		maps.Copy(out.Rdma, u.Rdma)
	}
	if u.Unified != nil {
		if out.Unified == nil {
			out.Unified = map[string]string{}
		}
		maps.Copy(out.Unified, u.Unified)
	}
	return out
}

func setPtr[T any](dst **T, src *T) {
	if src != nil {
		*dst = src
	}
}

// mergeByKey returns cur with each entry of upd in the place of cur's entry
// of the same key, or appended, in order; one entry per key is kept, the
// last one given (a device listed twice in config.json ends with the rate
// written last, and an update replaces both).
func mergeByKey[T any, K comparable](cur, upd []T, key func(T) K) []T {
	var out []T
	at := map[K]int{}
	for _, list := range [][]T{cur, upd} {
		for _, e := range list {
			if i, ok := at[key(e)]; ok {
				out[i] = e
				continue
			}
			at[key(e)] = len(out)
			out = append(out, e)
		}
	}
	return out
}

// deepCopyResources copies r through JSON, its canonical form; nil gives
// an empty value.
func deepCopyResources(r *specs.LinuxResources) *specs.LinuxResources {
	out := &specs.LinuxResources{}
	if r == nil {
		return out
	}
	if err := jsonCopy(r, out); err != nil {
		// Only types that cannot be marshalled fail, and these are plain data.
		panic(fmt.Sprintf("copy linux.resources: %v", err))
	}
	return out
}

func jsonCopy(src, dst any) error {
	data, err := json.Marshal(src)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, dst)
}
