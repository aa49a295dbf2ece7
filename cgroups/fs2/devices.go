package fs2

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// setDevices replaces the cgroup's device filter with one compiled from
// r.Devices. The new program is attached before the old ones are
// detached, so the cgroup is never without a filter. A nil list leaves the
// filter alone.
func (m *Manager) setDevices(r *specs.LinuxResources) error {
	if r.Devices == nil {
		return nil
	}
	insns, err := DeviceFilter(r.Devices)
	if err != nil {
		return err
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.CGroupDevice,
		Instructions: insns,
		License:      "Apache-2.0",
	})
	if err != nil {
		return fmt.Errorf("linux.resources.devices: load device filter: %w", err)
	}
	defer prog.Close()
	if err := AttachDeviceFilter(m.c.Dir, prog.FD()); err != nil {
		return fmt.Errorf("linux.resources.devices: %w", err)
	}
	return nil
}

// AttachDeviceFilter attaches the loaded program progFD to the cgroup dir
// as its device filter, detaching whatever device programs were there.
// The attachment is the legacy BPF_PROG_ATTACH kind, which lives as long
// as the cgroup (a bpf_link would die with rt's process).
func AttachDeviceFilter(dir string, progFD int) error {
	cg, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open cgroup %s: %w", dir, err)
	}
	defer unix.Close(cg)
	old, err := queryDevicePrograms(cg)
	if err != nil {
		return err
	}
	if err := progAttach(unix.BPF_PROG_ATTACH, cg, progFD, unix.BPF_F_ALLOW_MULTI); err != nil {
		// A filter attached by someone else without ALLOW_MULTI can only
		// be replaced in place.
		if len(old) != 1 {
			return fmt.Errorf("attach device filter to %s: %w", dir, err)
		}
		if err := progAttach(unix.BPF_PROG_ATTACH, cg, progFD, 0); err != nil {
			return fmt.Errorf("attach device filter to %s: %w", dir, err)
		}
		return nil
	}
	var errs []error
	for _, id := range old {
		p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id))
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			errs = append(errs, fmt.Errorf("open old device filter %d: %w", id, err))
			continue
		}
		if err := progAttach(unix.BPF_PROG_DETACH, cg, p.FD(), 0); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("detach old device filter %d from %s: %w", id, dir, err))
		}
		p.Close()
	}
	return errors.Join(errs...)
}

// DevicePrograms lists the ids of the device programs attached to dir.
func DevicePrograms(dir string) ([]uint32, error) {
	cg, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open cgroup %s: %w", dir, err)
	}
	defer unix.Close(cg)
	return queryDevicePrograms(cg)
}

// progAttachAttr is the BPF_PROG_ATTACH/DETACH part of union bpf_attr.
type progAttachAttr struct {
	targetFD    uint32
	attachBpfFD uint32
	attachType  uint32
	attachFlags uint32
}

func progAttach(cmd, cgroupFD, progFD int, flags uint32) error {
	attr := progAttachAttr{uint32(cgroupFD), uint32(progFD), unix.BPF_CGROUP_DEVICE, flags}
	_, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	runtime.KeepAlive(&attr)
	if errno != 0 {
		return errno
	}
	return nil
}

// progQueryAttr is the BPF_PROG_QUERY part of union bpf_attr.
type progQueryAttr struct {
	targetFD    uint32
	attachType  uint32
	queryFlags  uint32
	attachFlags uint32
	progIDs     uint64
	progCnt     uint32
	_           uint32
}

func queryDevicePrograms(cgroupFD int) ([]uint32, error) {
	ids := make([]uint32, 64)
	attr := progQueryAttr{
		targetFD:   uint32(cgroupFD),
		attachType: unix.BPF_CGROUP_DEVICE,
		progIDs:    uint64(uintptr(unsafe.Pointer(&ids[0]))),
		progCnt:    uint32(len(ids)),
	}
	_, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_QUERY, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	runtime.KeepAlive(ids)
	if errno != 0 {
		return nil, fmt.Errorf("query device filters: %w", errno)
	}
	return ids[:attr.progCnt], nil
}
