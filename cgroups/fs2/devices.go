package fs2

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unsafe"

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
	prog, err := DeviceFilter(r.Devices)
	if err != nil {
		return err
	}
	fd, err := LoadDeviceFilter(prog)
	if err != nil {
		return fmt.Errorf("linux.resources.devices: %w", err)
	}
	defer unix.Close(fd)
	if err := AttachDeviceFilter(m.c.Dir, fd); err != nil {
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
		p, err := programByID(id)
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			errs = append(errs, fmt.Errorf("open old device filter %d: %w", id, err))
			continue
		}
		if err := progAttach(unix.BPF_PROG_DETACH, cg, p, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("detach old device filter %d from %s: %w", id, dir, err))
		}
		unix.Close(p)
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

// progLoadAttr is the BPF_PROG_LOAD part of union bpf_attr, up to
// prog_name.
type progLoadAttr struct {
	progType    uint32
	insnCnt     uint32
	insns       uint64
	license     uint64
	logLevel    uint32
	logSize     uint32
	logBuf      uint64
	kernVersion uint32
	progFlags   uint32
	progName    [16]byte
}

// LoadDeviceFilter loads prog as a BPF_PROG_TYPE_CGROUP_DEVICE program and
// returns its fd (close-on-exec). When the kernel's verifier refuses it,
// the error carries the verifier's log.
func LoadDeviceFilter(prog DeviceProgram) (int, error) {
	if len(prog) == 0 {
		return -1, errors.New("load device filter: empty program")
	}
	license := []byte("Apache-2.0\x00")
	var log []byte
	// The kernel reads these through the addresses in attr, which the
	// garbage collector does not see.
	defer func() {
		runtime.KeepAlive(prog)
		runtime.KeepAlive(license)
		runtime.KeepAlive(log)
	}()
	attr := progLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(prog)),
		insns:    uint64(uintptr(unsafe.Pointer(&prog[0]))),
		license:  uint64(uintptr(unsafe.Pointer(&license[0]))),
	}
	copy(attr.progName[:], "rt_devices")
	fd, errno := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if errno == 0 {
		return fd, nil
	}
	if errno != unix.EACCES && errno != unix.EINVAL {
		return -1, fmt.Errorf("load device filter: %w", errno)
	}
	// Again, for the verifier's reasons.
	log = make([]byte, 64<<10)
	attr.logLevel, attr.logSize, attr.logBuf = 1, uint32(len(log)), uint64(uintptr(unsafe.Pointer(&log[0])))
	if fd, errno2 := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); errno2 == 0 {
		return fd, nil
	}
	return -1, fmt.Errorf("load device filter: %w: %s", errno, strings.TrimSpace(unix.ByteSliceToString(log)))
}

// programByID opens the BPF program id (BPF_PROG_GET_FD_BY_ID).
func programByID(id uint32) (int, error) {
	attr := struct {
		progID    uint32
		nextID    uint32
		openFlags uint32
	}{progID: id}
	fd, errno := bpf(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if errno != 0 {
		return -1, errno
	}
	return fd, nil
}

func bpf(cmd int, attr unsafe.Pointer, size uintptr) (int, unix.Errno) {
	r, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if errno != 0 {
		return -1, errno
	}
	// The kernel's fds from bpf(2) are always close-on-exec.
	return int(r), 0
}
