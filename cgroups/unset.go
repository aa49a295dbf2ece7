package cgroups

import (
	"math"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// WithoutUnset returns a copy of r in which every value that engines send
// to mean "not set" is nil, so that Set leaves the kernel's value alone.
// r is not modified. Docker, for one, always sends blockIO.weight 0 and,
// on `docker update`, 0 for every memory and CPU limit it does not change;
// runc has read these zeros as "not set" since its first releases, and
// the kernel refuses most of them (a blkio weight of 0) or would apply a
// limit nobody asked for (a memory limit of 0).
//
// The fields, with runc's rule:
//   - memory.limit, .reservation, .swap, .kernel, .kernelTCP: 0 is unset;
//   - memory.swappiness: 2^64-1 (-1 sent as a uint64) is unset;
//   - memory.disableOOMKiller: false is unset (only true is written);
//   - cpu.shares, .quota, .period, .realtimeRuntime, .realtimePeriod: 0 is unset;
//   - blockIO.weight, .leafWeight, and weightDevice[].weight, .leafWeight:
//     0 is unset (a weightDevice entry left with neither is dropped);
//   - network.classID: 0 is unset.
//
// Values kept as they are: cpu.burst and cpu.idle (0 is a real value),
// pids.limit (0 or below is "max", applied by the drivers), cpu.cpus and
// cpu.mems ("" is already unset), throttle devices (a rate of 0 removes
// the device's limit), hugepage limits, network priorities, rdma, unified.
func WithoutUnset(r *specs.LinuxResources) *specs.LinuxResources {
	if r == nil {
		return nil
	}
	out := *r
	if r.Memory != nil {
		m := *r.Memory
		for _, p := range []**int64{&m.Limit, &m.Reservation, &m.Swap, &m.Kernel, &m.KernelTCP} {
			dropZero(p)
		}
		if m.Swappiness != nil && *m.Swappiness == math.MaxUint64 {
			m.Swappiness = nil
		}
		if m.DisableOOMKiller != nil && !*m.DisableOOMKiller {
			m.DisableOOMKiller = nil
		}
		out.Memory = &m
	}
	if r.CPU != nil {
		c := *r.CPU
		dropZero(&c.Shares)
		dropZero(&c.Quota)
		dropZero(&c.Period)
		dropZero(&c.RealtimeRuntime)
		dropZero(&c.RealtimePeriod)
		out.CPU = &c
	}
	if r.BlockIO != nil {
		b := *r.BlockIO
		dropZero(&b.Weight)
		dropZero(&b.LeafWeight)
		b.WeightDevice = nil
		for _, d := range r.BlockIO.WeightDevice {
			dropZero(&d.Weight)
			dropZero(&d.LeafWeight)
			if d.Weight != nil || d.LeafWeight != nil {
				b.WeightDevice = append(b.WeightDevice, d)
			}
		}
		out.BlockIO = &b
	}
	if r.Network != nil {
		n := *r.Network
		dropZero(&n.ClassID)
		out.Network = &n
	}
	return &out
}

func dropZero[T comparable](p **T) {
	var zero T
	if *p != nil && **p == zero {
		*p = nil
	}
}
