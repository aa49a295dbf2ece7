package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/cgroups"
	"github.com/rtproject/rt/libcontainer/criu"
	"github.com/rtproject/rt/libcontainer/criu/criurpc"
	"github.com/rtproject/rt/libcontainer/namespaces"
	"github.com/rtproject/rt/libcontainer/rootfs"
)

// CriuOpts are the options of `rt checkpoint` and `rt restore`, as runc names them.
type CriuOpts struct {
	// CriuPath is the criu binary (the global --criu); "" means "criu" in $PATH.
	CriuPath string
	// ImagePath is the directory of the images; "" means ./checkpoint.
	ImagePath string
	// WorkPath gets CRIU's log and work files; "" means ImagePath.
	WorkPath string
	// ParentPath is the images of a previous pre-dump, relative to ImagePath.
	ParentPath string

	LeaveRunning   bool
	TCPEstablished bool
	ExtUnixSk      bool
	ShellJob       bool
	FileLocks      bool
	PreDump        bool
	AutoDedup      bool
	LazyPages      bool
	LinkRemap      bool
	// StatusFd, with LazyPages, gets a \0 once the page server is ready; -1 for none.
	StatusFd int
	// PageServer is ADDRESS:PORT of a page server to send the memory to.
	PageServer string
	// ManageCgroupsMode is soft (the default), full, strict or ignore.
	ManageCgroupsMode string
	// EmptyNs lists namespaces CRIU makes without restoring their contents.
	EmptyNs []string

	LsmProfile      string
	LsmMountContext string
}

const (
	// descriptorsFile, in the image directory, records what the init's
	// stdio were, so that a restore can hand CRIU new pipes in their place.
	descriptorsFile = "descriptors.json"
	// criuRootDir, in the state directory, is where the rootfs is bound
	// during a restore: CRIU wants a mount point as the root.
	criuRootDir = "criu-root"
	// criuConfigAnnotation names a CRIU configuration file for the container
	// ("" for none); without it /etc/criu/runc.conf is read, the file
	// engines and administrators configure CRIU for OCI runtimes in.
	criuConfigAnnotation = "org.criu.config"
	defaultCriuConfig    = "/etc/criu/runc.conf"
)

func (o *CriuOpts) imagePath() string {
	if o.ImagePath == "" {
		return "checkpoint"
	}
	return o.ImagePath
}

// cgroupMode is --manage-cgroups-mode for CRIU.
func (o *CriuOpts) cgroupMode() (criurpc.CgMode, error) {
	switch o.ManageCgroupsMode {
	case "":
		return criurpc.CgDefault, nil
	case "soft":
		return criurpc.CgSoft, nil
	case "full":
		return criurpc.CgFull, nil
	case "strict":
		return criurpc.CgStrict, nil
	case "ignore":
		return criurpc.CgIgnore, nil
	}
	return 0, fmt.Errorf("--manage-cgroups-mode: invalid value %q (soft, full, strict or ignore)", o.ManageCgroupsMode)
}

// emptyNsMask is --empty-ns as clone flags. The network namespace is always
// in it: rt configures no network devices, so CRIU must not recreate any
// (a network namespace given by path is external and kept as it is).
func (o *CriuOpts) emptyNsMask() (uint32, error) {
	mask := uint32(unix.CLONE_NEWNET)
	for _, ns := range o.EmptyNs {
		if specs.LinuxNamespaceType(ns) != specs.NetworkNamespace {
			return 0, fmt.Errorf("--empty-ns: namespace %q is not supported (only network)", ns)
		}
	}
	return mask, nil
}

// pageServer parses --page-server ADDRESS:PORT.
func (o *CriuOpts) pageServer() (*criurpc.PageServerInfo, error) {
	if o.PageServer == "" {
		return nil, nil
	}
	host, port, err := net.SplitHostPort(o.PageServer)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("--page-server: %q is not ADDRESS:PORT", o.PageServer)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return nil, fmt.Errorf("--page-server: invalid port %q", port)
	}
	return &criurpc.PageServerInfo{Address: host, Port: int32(p)}, nil
}

// checkParentPath checks --parent-path: relative to the image directory,
// which CRIU resolves it against, and a directory there.
func (o *CriuOpts) checkParentPath() error {
	if o.ParentPath == "" {
		return nil
	}
	if filepath.IsAbs(o.ParentPath) {
		return errors.New("--parent-path: must be relative to --image-path")
	}
	p := filepath.Join(o.imagePath(), o.ParentPath)
	st, err := os.Stat(p)
	if err == nil && !st.IsDir() {
		err = &os.PathError{Op: "stat", Path: p, Err: unix.ENOTDIR}
	}
	if err != nil {
		return fmt.Errorf("--parent-path: %w", err)
	}
	return nil
}

// validate checks every option that needs neither CRIU nor the container.
func (o *CriuOpts) validate() error {
	if _, err := o.cgroupMode(); err != nil {
		return err
	}
	if _, err := o.emptyNsMask(); err != nil {
		return err
	}
	if _, err := o.pageServer(); err != nil {
		return err
	}
	if o.StatusFd >= 0 && o.LazyPages {
		flags, err := unix.FcntlInt(uintptr(o.StatusFd), unix.F_GETFL, 0)
		if err != nil {
			return fmt.Errorf("--status-fd %d: %w", o.StatusFd, err)
		}
		if flags&unix.O_ACCMODE == unix.O_RDONLY {
			return fmt.Errorf("--status-fd %d: not open for writing", o.StatusFd)
		}
	}
	return o.checkParentPath()
}

// probeCriu asks CRIU, before anything is touched, whether it can work here
// and has what the options need.
func (o *CriuOpts) probeCriu() (*criu.Info, error) {
	var want *criurpc.Features
	if o.PreDump || o.ParentPath != "" || o.LazyPages {
		want = &criurpc.Features{MemTrack: o.PreDump || o.ParentPath != "", LazyPages: o.LazyPages}
	}
	info, err := criu.Probe(o.CriuPath, want)
	if err != nil {
		return nil, err
	}
	if want == nil {
		return info, nil
	}
	if want.MemTrack && !info.Features.MemTrack {
		flag := "--pre-dump"
		if !o.PreDump {
			flag = "--parent-path"
		}
		return nil, fmt.Errorf("%s: CRIU %s cannot track memory changes on this host: the kernel has no soft-dirty page tracking (CONFIG_MEM_SOFT_DIRTY), which iterative checkpoints need; checkpoint without %s", flag, info.Version, flag)
	}
	if want.LazyPages && !info.Features.LazyPages {
		return nil, fmt.Errorf("--lazy-pages: CRIU %s cannot restore memory lazily on this host: the kernel lacks userfaultfd (non-cooperative)", info.Version)
	}
	return info, nil
}

// CheckpointSupport says whether checkpoint and restore can work with the
// CRIU at path ("" for criu in $PATH): its version, or what is missing.
func CheckpointSupport(path string) (string, error) {
	info, err := criu.Probe(path, nil)
	if err != nil {
		return "", err
	}
	return info.Version.String(), nil
}

// baseRPC are the CRIU options checkpoint and restore share.
func (o *CriuOpts) baseRPC(spec *specs.Spec) *criurpc.Opts {
	mode, _ := o.cgroupMode()
	mask, _ := o.emptyNsMask()
	// The boolean options are sent false too, as rt always sent them:
	// CRIU applies a present false over its default.
	r := &criurpc.Opts{
		LogLevel: 4,
		// Obsoleted by the mode, but CRIU still reads it.
		ManageCgroups:     new(true),
		ManageCgroupsMode: new(mode),
		NotifyScripts:     new(true),
		ShellJob:          new(o.ShellJob),
		TCPEstablished:    new(o.TCPEstablished),
		ExtUnixSk:         new(o.ExtUnixSk),
		FileLocks:         new(o.FileLocks),
		EmptyNs:           mask,
		// The master of the container's terminal is held by whoever got
		// it over the console socket, outside the dumped tree: CRIU
		// records the pty without it and hands a new master to us on
		// restore ("orphan-pts-master").
		OrphanPtsMaster: new(true),
		AutoDedup:       new(o.AutoDedup),
		LazyPages:       new(o.LazyPages),
	}
	file, set := spec.Annotations[criuConfigAnnotation]
	if !set {
		file = defaultCriuConfig
	}
	if file != "" {
		// CRIU ignores a file that does not exist.
		r.ConfigFile = file
	}
	return r
}

// openDirs opens the image directory (made first when makeImages: a dump
// writes it) and the work directory (made when missing: CRIU writes its log
// there). CRIU reaches both through our fds; no work directory means the images'.
func (o *CriuOpts) openDirs(makeImages bool) (images, work *os.File, err error) {
	open := func(path, flag string, make bool) (*os.File, error) {
		// A container may be checkpointed again into the same place.
		if make {
			if err := os.MkdirAll(path, 0o700); err != nil {
				return nil, fmt.Errorf("%s: %w", flag, err)
			}
		}
		f, err := os.OpenFile(path, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
		return f, nil
	}
	if images, err = open(o.imagePath(), "--image-path", makeImages); err != nil {
		return nil, nil, err
	}
	if o.WorkPath != "" {
		if work, err = open(o.WorkPath, "--work-path", true); err != nil {
			images.Close()
			return nil, nil, err
		}
	}
	return images, work, nil
}

// logDir is where CRIU writes its log.
func (o *CriuOpts) logDir() string {
	if o.WorkPath != "" {
		return o.WorkPath
	}
	return o.imagePath()
}

// criuFailed adds the error lines of CRIU's log to err.
func (o *CriuOpts) criuFailed(err error, logFile string) error {
	path := filepath.Join(o.logDir(), logFile)
	data, rerr := os.ReadFile(path)
	if rerr != nil {
		return err
	}
	if lines := criu.ErrorLines(string(data), 3); strings.Contains(lines, "Error") {
		// The log says more than CRIU's reply, which repeats its first
		// error, often a harmless one.
		var cerr *criu.Error
		if errors.As(err, &cerr) {
			err = &criu.Error{Type: cerr.Type, Errno: cerr.Errno}
		}
		return fmt.Errorf("%w: %s (CRIU log: %s)", err, lines, path)
	}
	return fmt.Errorf("%w (CRIU log: %s)", err, path)
}

// extMount describes one mount CRIU must treat as external: on a dump Key is
// its mount point and Val the name recorded for it; on a restore Key is that
// name and Val the host path to bind there.
func extMount(key, val string) criurpc.ExtMount {
	return criurpc.ExtMount{Key: key, Val: val}
}

// externalMounts lists the container's mounts of host paths, which CRIU
// cannot dump but must be told about: bind mounts, the cgroup directories
// bound without a cgroup namespace, and device nodes bound from the host.
// Each is named by its mount point in the container. sources says whether
// the host paths are wanted (restore) or the names only (dump).
func externalMounts(spec *specs.Spec, rootfsPath, bundle string, cgroupPaths map[string]string, sources bool) ([]criurpc.ExtMount, error) {
	var out []criurpc.ExtMount
	add := func(dest, src string) {
		if !sources {
			src = dest
		}
		out = append(out, extMount(dest, src))
	}
	cgroupNS := namespaces.Has(spec, specs.CgroupNamespace)
	for _, m := range spec.Mounts {
		dest := rootfs.Resolve(rootfsPath, m.Destination)
		switch {
		case m.Type == "cgroup" || m.Type == "cgroup2":
			if cgroupNS {
				// Mounted afresh inside: CRIU dumps it.
				continue
			}
			binds, err := rootfs.CgroupBinds(dest, cgroupPaths)
			if err != nil {
				return nil, fmt.Errorf("cgroup mount %s: %w", m.Destination, err)
			}
			for _, b := range binds {
				add(b.Destination, b.Source)
			}
		case isBindMount(&m):
			src := m.Source
			if !filepath.IsAbs(src) {
				src = filepath.Join(bundle, src)
			}
			add(dest, src)
		}
	}
	for _, d := range rootfs.Devices(spec) {
		// A node made with mknod lives on the /dev tmpfs and is dumped with
		// it; one bound from the host (in a user namespace) is external.
		add(filepath.Clean(d.Path), filepath.Clean(d.Path))
	}
	return out, nil
}

func isBindMount(m *specs.Mount) bool {
	if m.Type == "bind" {
		return true
	}
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}

// maskedFiles lists the masked paths that are files in the container (pid's
// root): they have /dev/null bound over them, which CRIU is told to take
// from the host on restore. Masked directories are tmpfs mounts CRIU dumps.
func maskedFiles(spec *specs.Spec, pid int) ([]string, error) {
	if spec.Linux == nil || len(spec.Linux.MaskedPaths) == 0 {
		return nil, nil
	}
	root, err := os.OpenFile(fmt.Sprintf("/proc/%d/root", pid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open the container's root: %w", err)
	}
	defer root.Close()
	var files []string
	for _, p := range spec.Linux.MaskedPaths {
		f, err := pathrs.OpenatInRoot(root, p)
		if err != nil {
			continue // not there: not masked
		}
		var st unix.Stat_t
		err = unix.Fstat(int(f.Fd()), &st)
		f.Close()
		if err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			files = append(files, filepath.Clean(p))
		}
	}
	return files, nil
}

// stdioDescriptors are what pid's fds 0-2 point to ("pipe:[123]", "/dev/null", …).
func stdioDescriptors(pid int) []string {
	out := make([]string, 3)
	for i := range out {
		out[i], _ = os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, i))
	}
	return out
}

func writeDescriptors(dir string, descs []string) error {
	data, err := json.Marshal(descs)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, descriptorsFile), data, 0o600)
}

func readDescriptors(dir string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, descriptorsFile))
	if err != nil {
		return nil, fmt.Errorf("--image-path: %w (not a checkpoint made by rt or runc?)", err)
	}
	var descs []string
	if err := json.Unmarshal(data, &descs); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, descriptorsFile), err)
	}
	return descs, nil
}

// freezerPath is the cgroup CRIU freezes the container with (instead of
// seizing each task with ptrace, which a task forking meanwhile escapes).
func freezerPath(paths map[string]string) string {
	if p := paths["freezer"]; p != "" {
		return p
	}
	if mode, err := cgroups.HostMode(); err == nil && mode == cgroups.Unified {
		return paths[""]
	}
	return ""
}

// criuNsKey names an external namespace in the images, as runc names it, so
// that either runtime restores the other's checkpoints.
func criuNsKey(t specs.LinuxNamespaceType) string {
	switch t {
	case specs.NetworkNamespace:
		return "extRootNetNS"
	case specs.PIDNamespace:
		return "extRootPidNS"
	}
	return ""
}
