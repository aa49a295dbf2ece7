//go:build kernel

// The tests here mount for real, in a child in new namespaces: they need
// root and run with the kernel tests of the integration suite.

package rootfs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/childtest"
	"github.com/rtproject/rt/internal/mountinfo"
)

func TestMain(m *testing.M) { childtest.TestMain(m) }

func init() {
	childtest.Register("full", withDir(scenarioFull))
	childtest.Register("nopivot", withDir(scenarioNoPivot))
	childtest.Register("evilroot", withDir(scenarioEvilRoot))
	childtest.Register("evilroot-bind", withDir(scenarioEvilRootBind))
	childtest.Register("bad", withDir(scenarioBad))
	childtest.Register("cgroupns", withDir(scenarioCgroupNS))
	childtest.Register("userns-outer", withDir(scenarioUserNSOuter))
	childtest.Register("userns", withDir(scenarioUserNS))
}

// mountNS is the child's namespaces: a private mount namespace (Go makes /
// rprivate after the unshare) and a pid namespace for proc.
func mountNS() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS, Cloneflags: syscall.CLONE_NEWPID}
}

func TestKernelSetupFull(t *testing.T) {
	dir := newTestDir(t)
	buildRootfs(t, dir)
	mustWrite(t, filepath.Join(dir, "src/a.txt"), "host file", 0o644)
	mustWrite(t, filepath.Join(dir, "src2/top.txt"), "nested", 0o644)
	mustWrite(t, filepath.Join(dir, "lower/lower.txt"), "from lower", 0o644)
	mustWrite(t, filepath.Join(dir, "idsrc/owned.txt"), "root's", 0o644)
	for _, d := range []string{"src2/inner", "upper", "work"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	runScenario(t, "full", dir, mountNS())
	if _, err := os.Stat(filepath.Join(dir, "upper/written.txt")); err != nil {
		t.Errorf("write through the overlay did not reach the upper dir: %v", err)
	}
}

func u32(v uint32) *uint32 { return &v }

func scenarioFull(dir string) error {
	rootfs := filepath.Join(dir, "rootfs")
	// A submount in a bind source, for rro to reach.
	if err := unix.Mount("tmpfs", filepath.Join(dir, "src2/inner"), "tmpfs", 0, "size=1m"); err != nil {
		return err
	}
	ids := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
	spec := &specs.Spec{
		Root: &specs.Root{Path: rootfs, Readonly: true},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/mnt/ro", Type: "bind", Source: filepath.Join(dir, "src"), Options: []string{"bind", "ro", "private"}},
			{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "size=1m", "mode=0750", "nodev"}},
			{Destination: "/mnt/nested", Type: "none", Source: filepath.Join(dir, "src2"), Options: []string{"rbind", "rro"}},
			{Destination: "/mnt/ovl", Type: "overlay", Source: "overlay", Options: []string{
				"lowerdir=" + filepath.Join(dir, "lower"), "upperdir=" + filepath.Join(dir, "upper"), "workdir=" + filepath.Join(dir, "work")}},
			{Destination: "/etc/a.txt", Type: "bind", Source: filepath.Join(dir, "src/a.txt"), Options: []string{"bind", "ro"}},
			{Destination: "/evil/escape1", Type: "tmpfs", Source: "tmpfs"},
			{Destination: "/evil2/escape2", Type: "tmpfs", Source: "tmpfs"},
			{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
			{Destination: "/mnt/idmapped", Type: "bind", Source: filepath.Join(dir, "idsrc"), Options: []string{"bind", "idmap"},
				UIDMappings: ids, GIDMappings: ids},
			{Destination: "/mnt/rm", Type: "tmpfs", Source: "tmpfs"},
			{Destination: "/mnt/rm", Type: "tmpfs", Options: []string{"remount", "ro", "size=2m"}},
			{Destination: "/mnt/rmbind", Type: "bind", Source: filepath.Join(dir, "src"), Options: []string{"bind"}},
			{Destination: "/mnt/rmbind", Type: "bind", Options: []string{"remount", "bind", "ro", "noexec"}},
		},
		Linux: &specs.Linux{
			Devices: []specs.LinuxDevice{
				{Path: "/dev/mynull", Type: "c", Major: 1, Minor: 3, FileMode: fileMode(0o600), UID: u32(1234), GID: u32(5678)},
				{Path: "/dev/myfifo", Type: "p"},
			},
			MaskedPaths:   []string{"/proc/version", "/proc/fs", "/proc/does-not-exist"},
			ReadonlyPaths: []string{"/proc/sys", "/missing/path"},
		},
	}
	// This process plays rt's part too: it clones the id-mapped source.
	sources := NewSources(spec, dir, rootfs, os.Getpid(), true, false)
	defer sources.Close()
	cfg := &Config{Spec: spec, Rootfs: rootfs, HostSource: sources.Open}
	hookSawDevices := false
	if err := Setup(cfg, func() error {
		_, err := os.Stat(filepath.Join(rootfs, "dev/null"))
		hookSawDevices = err == nil
		return nil
	}); err != nil {
		return fmt.Errorf("Setup: %w", err)
	}
	c := &checks{}
	if !hookSawDevices {
		c.fail("beforePivot ran before /dev/null existed")
	}
	slave, consoleErr := openPtySlave()
	if consoleErr == nil {
		consoleErr = MountConsole(slave)
	}
	if consoleErr != nil {
		c.fail("console: %v", consoleErr)
	}
	if err := Finalize(cfg); err != nil {
		return fmt.Errorf("Finalize: %w", err)
	}
	if err := os.WriteFile("/overlay-write-test", nil, 0o644); !errors.Is(err, unix.EROFS) {
		c.fail("root.readonly: writing to / gave %v, want EROFS", err)
	}
	if err := os.WriteFile("/mnt/ovl/written.txt", []byte("x"), 0o644); err != nil {
		c.fail("overlay: %v", err)
	}
	if _, err := os.Stat("/rt-marker"); err != nil {
		c.fail("not in the rootfs after pivot: %v", err)
	}

	mounts, err := mountinfo.Read()
	if err != nil {
		return err
	}
	byPoint := map[string]mountinfo.Mount{}
	for _, m := range mounts {
		byPoint[m.Point] = m
	}
	for point, fsType := range map[string]string{
		"/proc": "proc", "/sys": "sysfs", "/dev": "tmpfs", "/dev/pts": "devpts", "/dev/shm": "tmpfs",
		"/dev/mqueue": "mqueue", "/run": "tmpfs", "/mnt/ovl": "overlay", "/escape1": "tmpfs", "/escape2": "tmpfs",
		"/sys/fs/cgroup": "tmpfs", "/sys/fs/cgroup/memory": "cgroup", "/sys/fs/cgroup/unified": "cgroup2",
		"/proc/fs": "tmpfs", "/mnt/nested/inner": "tmpfs",
	} {
		if got := byPoint[point].FSType; got != fsType {
			c.fail("%s: filesystem %q, want %q", point, got, fsType)
		}
	}
	for _, p := range []string{"/mnt/ro", "/etc/a.txt", "/mnt/idmapped", "/dev/console", "/proc/version"} {
		if _, ok := byPoint[p]; !ok {
			c.fail("%s is not a mount point", p)
		}
	}
	for _, p := range []string{"/mnt/ro", "/mnt/nested", "/mnt/nested/inner", "/sys", "/proc/sys", "/", "/proc/fs", "/etc/a.txt", "/sys/fs/cgroup", "/sys/fs/cgroup/memory", "/mnt/rm", "/mnt/rmbind"} {
		if !isReadOnly(p) {
			c.fail("%s is writable, want read-only", p)
		}
	}
	for _, p := range []string{"/run", "/dev/shm", "/escape1", "/mnt/ovl", "/mnt/idmapped"} {
		if isReadOnly(p) {
			c.fail("%s is read-only, want writable", p)
		}
	}
	var sfs unix.Statfs_t
	if err := unix.Statfs("/mnt/rm", &sfs); err != nil || sfs.Blocks*uint64(sfs.Bsize) != 2<<20 {
		c.fail("/mnt/rm after remount: %d blocks of %d (%v), want 2MiB", sfs.Blocks, sfs.Bsize, err)
	}
	if err := unix.Statfs("/mnt/rmbind", &sfs); err != nil || sfs.Flags&unix.ST_NOEXEC == 0 {
		c.fail("/mnt/rmbind flags %#x (%v), want noexec after a bind remount", sfs.Flags, err)
	}
	if err := unix.Statfs("/run", &sfs); err != nil || sfs.Blocks*uint64(sfs.Bsize) != 1<<20 {
		c.fail("/run size: %d blocks of %d (%v), want 1MiB", sfs.Blocks, sfs.Bsize, err)
	}
	if err := unix.Statfs("/dev/shm", &sfs); err != nil || sfs.Flags&unix.ST_NOEXEC == 0 || sfs.Flags&unix.ST_NODEV == 0 {
		c.fail("/dev/shm flags %#x (%v), want noexec,nodev", sfs.Flags, err)
	}
	expectMode(c, "/run", unix.S_IFDIR|0o750, 0, 0)
	expectMode(c, "/run/sub/keep.txt", unix.S_IFREG|0o640, 1234, 5678)
	expectContent(c, "/run/sub/keep.txt", "kept")
	expectLink(c, "/run/link", "sub/keep.txt")
	expectContent(c, "/etc/a.txt", "host file")
	expectContent(c, "/mnt/ovl/lower.txt", "from lower")
	expectContent(c, "/mnt/nested/top.txt", "nested")
	expectContent(c, "/etc/hostname", "box\n")
	// Stored as 0, seen as 1000 through the mount mapping 0 to 1000.
	expectMode(c, "/mnt/idmapped/owned.txt", unix.S_IFREG|0o644, 1000, 1000)

	expectDevice(c, "/dev/null", unix.S_IFCHR|0o666, 1, 3, 0, 0)
	expectDevice(c, "/dev/tty", unix.S_IFCHR|0o666, 5, 0, 0, 0)
	expectDevice(c, "/dev/urandom", unix.S_IFCHR|0o666, 1, 9, 0, 0)
	expectDevice(c, "/dev/mynull", unix.S_IFCHR|0o600, 1, 3, 1234, 5678)
	expectMode(c, "/dev/myfifo", unix.S_IFIFO|0o666, 0, 0)
	expectDevice(c, "/proc/version", unix.S_IFCHR|0o666, 1, 3, 0, 0)
	expectLink(c, "/dev/fd", "/proc/self/fd")
	expectLink(c, "/dev/stdin", "/proc/self/fd/0")
	expectLink(c, "/dev/stderr", "/proc/self/fd/2")
	expectLink(c, "/dev/ptmx", "pts/ptmx")
	if entries, err := os.ReadDir("/proc/fs"); err != nil || len(entries) != 0 {
		c.fail("masked /proc/fs: %d entries (%v), want an empty directory", len(entries), err)
	}
	if consoleErr == nil {
		var con, sl unix.Stat_t
		if err := unix.Stat("/dev/console", &con); err != nil || unix.Stat(slave, &sl) != nil || con.Rdev != sl.Rdev {
			c.fail("/dev/console is not %s (%v)", slave, err)
		}
	}
	if procs, err := os.ReadFile("/sys/fs/cgroup/memory/cgroup.procs"); err != nil || !slices.Contains(strings.Fields(string(procs)), "1") {
		c.fail("container's memory cgroup: %q (%v), want our pid 1 in it", procs, err)
	}
	return c.err()
}

// openPtySlave opens a pty pair in the container's devpts and returns the
// slave's path, as init does for a terminal.
func openPtySlave() (string, error) {
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	// Leaked on purpose: the slave must outlive the checks.
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		return "", err
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		return "", err
	}
	return fmt.Sprintf("/dev/pts/%d", n), nil
}

func isReadOnly(p string) bool {
	var sfs unix.Statfs_t
	return unix.Statfs(p, &sfs) == nil && sfs.Flags&unix.ST_RDONLY != 0
}

func expectMode(c *checks, p string, mode uint32, uid, gid uint32) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		c.fail("%s: %v", p, err)
		return
	}
	if st.Mode != mode || st.Uid != uid || st.Gid != gid {
		c.fail("%s: mode %o owner %d:%d, want %o %d:%d", p, st.Mode, st.Uid, st.Gid, mode, uid, gid)
	}
}

func expectDevice(c *checks, p string, mode uint32, major, minor, uid, gid uint32) {
	expectMode(c, p, mode, uid, gid)
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err == nil && (unix.Major(st.Rdev) != major || unix.Minor(st.Rdev) != minor) {
		c.fail("%s: device %d:%d, want %d:%d", p, unix.Major(st.Rdev), unix.Minor(st.Rdev), major, minor)
	}
}

func expectContent(c *checks, p, want string) {
	got, err := os.ReadFile(p)
	if err != nil || string(got) != want {
		c.fail("%s: %q (%v), want %q", p, got, err, want)
	}
}

func expectLink(c *checks, p, want string) {
	got, err := os.Readlink(p)
	if err != nil || got != want {
		c.fail("%s: link to %q (%v), want %q", p, got, err, want)
	}
}

func TestKernelSetupNoPivot(t *testing.T) {
	dir := newTestDir(t)
	buildRootfs(t, dir)
	runScenario(t, "nopivot", dir, mountNS())
}

// scenarioNoPivot uses move+chroot, no /dev mount in the spec (so a tmpfs
// /dev is made) and rshared root propagation.
func scenarioNoPivot(dir string) error {
	rootfs := filepath.Join(dir, "rootfs")
	spec := &specs.Spec{
		Root: &specs.Root{Path: rootfs},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"noexec"}},
		},
		Linux: &specs.Linux{RootfsPropagation: "rshared"},
	}
	if err := Setup(&Config{Spec: spec, Rootfs: rootfs, NoPivot: true}, nil); err != nil {
		return fmt.Errorf("Setup: %w", err)
	}
	c := &checks{}
	if _, err := os.Stat("/rt-marker"); err != nil {
		c.fail("not in the rootfs: %v", err)
	}
	mounts, err := mountinfo.Read()
	if err != nil {
		return err
	}
	seen := map[string]mountinfo.Mount{}
	for _, m := range mounts {
		seen[m.Point] = m
	}
	if m := seen["/dev"]; m.FSType != "tmpfs" {
		c.fail("/dev: %q, want the default tmpfs", m.FSType)
	}
	if m := seen["/"]; !m.Shared() {
		c.fail("/ is not shared after rootfsPropagation rshared")
	}
	expectDevice(c, "/dev/zero", unix.S_IFCHR|0o666, 1, 5, 0, 0)
	return c.err()
}

func TestKernelSetupSymlinkToRootAsDestination(t *testing.T) {
	dir := newTestDir(t)
	buildRootfs(t, dir)
	runScenario(t, "evilroot", dir, mountNS())
}

// scenarioEvilRoot mounts on "/evil", a symlink to "/": the mount lands on
// the rootfs itself, never on the host's root.
func scenarioEvilRoot(dir string) error {
	rootfs := filepath.Join(dir, "rootfs")
	spec := &specs.Spec{
		Root: &specs.Root{Path: rootfs},
		Mounts: []specs.Mount{
			{Destination: "/evil", Type: "tmpfs", Source: "evil-tmpfs"},
			{Destination: "/proc", Type: "proc", Source: "proc"},
		},
	}
	if err := Setup(&Config{Spec: spec, Rootfs: rootfs}, nil); err != nil {
		return fmt.Errorf("Setup: %w", err)
	}
	c := &checks{}
	mounts, err := mountinfo.Read()
	if err != nil {
		return err
	}
	for _, m := range mounts {
		if m.Point == "/" && m.Source != "evil-tmpfs" {
			c.fail("/ is %s from %s, want the tmpfs mounted through /evil", m.FSType, m.Source)
		}
	}
	if _, err := os.Stat("/rt-marker"); err == nil {
		c.fail("the rootfs contents are visible, want them covered by the tmpfs")
	}
	return c.err()
}

func TestKernelSetupFailuresLeaveNothing(t *testing.T) {
	dir := newTestDir(t)
	buildRootfs(t, dir)
	mustWrite(t, filepath.Join(dir, "src/a.txt"), "x", 0o644)
	runScenario(t, "bad", dir, mountNS())
}

func scenarioBad(dir string) error {
	rootfs := filepath.Join(dir, "rootfs")
	tmp := specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"}
	proc := specs.Mount{Destination: "/proc", Type: "proc", Source: "proc"}
	// Links into the container's procfs, once mounted: its magic links lead
	// to the init's own root, cwd and fds, all on the host.
	for name, target := range map[string]string{
		"magic-root": "/proc/self/root", "magic-cwd": "/proc/1/cwd", "magic-fd": "/proc/self/fd/0",
	} {
		if err := os.Symlink(target, filepath.Join(rootfs, name)); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	cases := []struct {
		mounts []specs.Mount
		want   []string
	}{
		{[]specs.Mount{tmp, {Destination: "/proc", Type: "proc"}, {Destination: "/x", Type: "bind", Source: filepath.Join(dir, "nope")}},
			[]string{"mounts[2] (bind ", "no such file"}},
		{[]specs.Mount{tmp, {Destination: "/etc/hostname", Type: "bind", Source: filepath.Join(dir, "src")}},
			[]string{"mounts[1] (bind ", "/etc/hostname is not a directory"}},
		{[]specs.Mount{tmp, {Destination: "/etc", Type: "bind", Source: filepath.Join(dir, "src/a.txt")}},
			[]string{"mounts[1] (bind ", "/etc is a directory"}},
		{[]specs.Mount{tmp, {Destination: "/run", Type: "tmpfs", Options: []string{"foo"}}},
			[]string{`mounts[1].options: unknown option "foo"`}},
		{[]specs.Mount{tmp, {Destination: "/run", Type: "tmpfs", Options: []string{"size=lots"}}},
			[]string{`mounts[1] (tmpfs on /run): mount with options "mode=0755,size=lots": invalid argument (tmpfs refuses one of them)`}},
		{[]specs.Mount{tmp, {Destination: "/ovl", Type: "overlay", Options: []string{"lowerdir=/nonexistent-rt"}}},
			[]string{`mounts[1] (overlay on /ovl): mount with options "lowerdir=/nonexistent-rt": `}},
		{[]specs.Mount{tmp, proc, {Destination: "/magic-root/rt-escape", Type: "tmpfs"}},
			[]string{"mounts[2] (tmpfs on /magic-root/rt-escape): resolve destination /magic-root/rt-escape: ", "too many levels of symbolic links"}},
		{[]specs.Mount{tmp, proc, {Destination: "/magic-cwd", Type: "tmpfs"}},
			[]string{"mounts[2] (tmpfs on /magic-cwd): resolve destination /magic-cwd: ", "too many levels of symbolic links"}},
		{[]specs.Mount{tmp, proc, {Destination: "/magic-fd", Type: "bind", Source: filepath.Join(dir, "src/a.txt")}},
			[]string{"mounts[2] (bind ", "resolve destination /magic-fd: ", "too many levels of symbolic links"}},
	}
	c := &checks{}
	for i, tc := range cases {
		before, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			return err
		}
		spec := &specs.Spec{Root: &specs.Root{Path: rootfs}, Mounts: tc.mounts}
		err = Setup(&Config{Spec: spec, Rootfs: rootfs}, func() error { return errors.New("reached pivot") })
		if err == nil {
			c.fail("case %d: Setup succeeded", i)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				c.fail("case %d: error %q lacks %q", i, err, w)
			}
		}
		after, _ := os.ReadFile("/proc/self/mountinfo")
		if !bytes.Equal(before, after) {
			c.fail("case %d: mounts left behind:\nbefore:\n%s\nafter:\n%s", i, before, after)
		}
	}
	if _, err := os.Lstat("/rt-escape"); err == nil {
		c.fail("/rt-escape was made on the host, through /proc/self/root")
	}
	return c.err()
}

func TestKernelSetupBindOnRootThenMore(t *testing.T) {
	dir := newTestDir(t)
	buildRootfs(t, dir)
	mustWrite(t, filepath.Join(dir, "src/a.txt"), "host file", 0o644)
	runScenario(t, "evilroot-bind", dir, mountNS())
	if _, err := os.Stat(filepath.Join(dir, "src/after")); err != nil {
		t.Errorf("/after was not made in the directory bound on the root: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "rootfs/after")); err == nil {
		t.Errorf("/after was made in the covered rootfs")
	}
}

// scenarioEvilRootBind binds a directory on "/evil", a link to "/": the
// mounts after it must land in that directory, now the container's root, as
// pivot_root will show it, not in the rootfs it covers.
func scenarioEvilRootBind(dir string) error {
	rootfs := filepath.Join(dir, "rootfs")
	spec := &specs.Spec{
		Root: &specs.Root{Path: rootfs},
		Mounts: []specs.Mount{
			{Destination: "/evil", Type: "bind", Source: filepath.Join(dir, "src"), Options: []string{"bind"}},
			{Destination: "/after", Type: "tmpfs", Source: "after-tmpfs"},
			{Destination: "/proc", Type: "proc", Source: "proc"},
		},
	}
	if err := Setup(&Config{Spec: spec, Rootfs: rootfs}, nil); err != nil {
		return fmt.Errorf("Setup: %w", err)
	}
	c := &checks{}
	if _, err := os.Stat("/a.txt"); err != nil {
		c.fail("the bound directory is not the root: %v", err)
	}
	mounts, err := mountinfo.Read()
	if err != nil {
		return err
	}
	found := false
	for _, m := range mounts {
		if m.Point == "/after" && m.Source == "after-tmpfs" {
			found = true
		}
	}
	if !found {
		c.fail("no tmpfs on /after in the new root")
	}
	return c.err()
}

func TestKernelSetupCgroupNamespace(t *testing.T) {
	dir := newTestDir(t)
	buildRootfs(t, dir)
	runScenario(t, "cgroupns", dir, &syscall.SysProcAttr{
		Unshareflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWCGROUP,
		Cloneflags:   syscall.CLONE_NEWPID,
	})
}

func scenarioCgroupNS(dir string) error {
	rootfs := filepath.Join(dir, "rootfs")
	spec := &specs.Spec{
		Root: &specs.Root{Path: rootfs},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"ro"}},
			{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "nodev", "noexec"}},
		},
	}
	if err := Setup(&Config{Spec: spec, Rootfs: rootfs, CgroupNS: true}, nil); err != nil {
		return fmt.Errorf("Setup: %w", err)
	}
	c := &checks{}
	mounts, err := mountinfo.Read()
	if err != nil {
		return err
	}
	found := map[string]mountinfo.Mount{}
	for _, m := range mounts {
		found[m.Point] = m
	}
	for _, p := range []string{"/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"} {
		m, ok := found[p]
		if !ok || !strings.HasPrefix(m.FSType, "cgroup") || m.Root != "/" {
			c.fail("%s: %+v, want a cgroup mount rooted at the namespace's root", p, m)
		}
	}
	if procs, err := os.ReadFile("/sys/fs/cgroup/memory/cgroup.procs"); err != nil || !slices.Contains(strings.Fields(string(procs)), "1") {
		c.fail("memory cgroup.procs: %q (%v), want our pid 1", procs, err)
	}
	return c.err()
}

func TestKernelSetupUserNamespace(t *testing.T) {
	dir := newTestDir(t)
	buildRootfs(t, dir)
	if err := os.MkdirAll(filepath.Join(dir, "locked"), 0o755); err != nil {
		t.Fatal(err)
	}
	runScenario(t, "userns-outer", dir, mountNS())
}

// scenarioUserNSOuter makes a nosuid,nodev,noexec mount and starts the user
// namespace scenario below it, where that mount's flags are locked.
func scenarioUserNSOuter(dir string) error {
	// Go writes the inner child's uid_map by its pid here: /proc must be
	// this pid namespace's.
	if err := unix.Mount("proc", "/proc", "proc", 0, ""); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", filepath.Join(dir, "locked"), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return err
	}
	ids := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}}
	cmd := childtest.Command("userns", dirEnv+"="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:   syscall.CLONE_NEWUSER | syscall.CLONE_NEWPID | syscall.CLONE_NEWNET,
		Unshareflags: syscall.CLONE_NEWNS,
		UidMappings:  ids,
		GidMappings:  ids,
	}
	out, err := cmd.CombinedOutput()
	os.Stdout.Write(out)
	if err != nil {
		return fmt.Errorf("user namespace scenario: %w", err)
	}
	return nil
}

func scenarioUserNS(dir string) error {
	rootfs := filepath.Join(dir, "rootfs")
	spec := &specs.Spec{
		Root: &specs.Root{Path: rootfs, Readonly: true},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"ro", "nosuid", "nodev", "noexec"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"newinstance", "ptmxmode=0666"}},
			// Names only ro: the flags the kernel locked stay set (naming
			// them cleared would fail, see TestBindFlags).
			{Destination: "/locked", Type: "bind", Source: filepath.Join(dir, "locked"), Options: []string{"bind", "ro"}},
		},
		Linux: &specs.Linux{MaskedPaths: []string{"/proc/version"}, ReadonlyPaths: []string{"/proc/sys"}},
	}
	cfg := &Config{Spec: spec, Rootfs: rootfs, UserNS: true}
	if err := Setup(cfg, nil); err != nil {
		return fmt.Errorf("Setup: %w", err)
	}
	if err := Finalize(cfg); err != nil {
		return fmt.Errorf("Finalize: %w", err)
	}
	c := &checks{}
	var sfs unix.Statfs_t
	want := int64(unix.ST_NOSUID | unix.ST_NODEV | unix.ST_NOEXEC | unix.ST_RDONLY)
	if err := unix.Statfs("/locked", &sfs); err != nil || sfs.Flags&want != want {
		c.fail("/locked flags %#x (%v), want nosuid,nodev,noexec,ro kept", sfs.Flags, err)
	}
	mounts, err := mountinfo.Read()
	if err != nil {
		return err
	}
	isMount := map[string]bool{}
	for _, m := range mounts {
		isMount[m.Point] = true
	}
	for _, p := range []string{"/dev/null", "/dev/zero", "/dev/tty", "/proc/version"} {
		if !isMount[p] {
			c.fail("%s is not bound from the host", p)
		}
	}
	// The host's node itself, with the host's owner.
	expectDevice(c, "/dev/zero", unix.S_IFCHR|0o666, 1, 5, 0, 0)
	for _, p := range []string{"/", "/proc/sys"} {
		if !isReadOnly(p) {
			c.fail("%s is writable, want read-only", p)
		}
	}
	return c.err()
}

// dirEnv hands a scenario the directory it shares with its test.
const dirEnv = "RT_ROOTFS_TEST_DIR"

func withDir(f func(dir string) error) func() error {
	return func() error { return f(os.Getenv(dirEnv)) }
}

// runScenario runs scenario name in a child with the given namespaces and
// fails t with the child's report. The scenario gets dir, a fresh temporary
// directory, which it shares with the parent.
func runScenario(t *testing.T, name, dir string, attr *syscall.SysProcAttr) {
	t.Helper()
	before := mountTable(t)
	r := childtest.Exec(t, name, childtest.Options{Env: []string{dirEnv + "=" + dir}, SysProcAttr: attr})
	out := r.Stdout + r.Stderr
	if !r.State.Success() {
		t.Fatalf("scenario %s: %v\n%s", name, r.State, out)
	}
	t.Logf("scenario %s:\n%s", name, out)
	after := mountTable(t)
	for line := range after {
		if !before[line] && (strings.Contains(line, dir) || mountPointOf(line) == "/" || strings.HasPrefix(mountPointOf(line), "/escape")) {
			t.Errorf("mount leaked into the test's namespace: %s", line)
		}
	}
	for line := range before {
		if !after[line] && mountPointOf(line) == "/" {
			t.Errorf("host root mount changed: %s", line)
		}
	}
	for _, p := range []string{"/escape1", "/escape2"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was created on the host", p)
		}
	}
}

func mountPointOf(line string) string {
	f := strings.Fields(line)
	if len(f) < 5 {
		return ""
	}
	return f[4]
}

// mountTable returns the lines of this process's mountinfo.
func mountTable(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines[sc.Text()] = true
	}
	return lines
}

// newTestDir makes a temporary directory the child (maybe in a user
// namespace) can reach.
func newTestDir(t *testing.T) string {
	dir, err := os.MkdirTemp("/tmp", "rt-rootfs-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// buildRootfs lays out a small busybox rootfs under dir/rootfs.
func buildRootfs(t *testing.T, dir string) string {
	t.Helper()
	rootfs := filepath.Join(dir, "rootfs")
	for _, d := range []string{"bin", "etc", "proc", "sys", "dev", "tmp", "run/sub"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skipf("no busybox: %v", err)
	}
	mustWrite(t, filepath.Join(rootfs, "bin/busybox"), string(bb), 0o755)
	mustWrite(t, filepath.Join(rootfs, "rt-marker"), "inside", 0o644)
	mustWrite(t, filepath.Join(rootfs, "etc/hostname"), "box\n", 0o644)
	mustWrite(t, filepath.Join(rootfs, "run/sub/keep.txt"), "kept", 0o640)
	if err := os.Chown(filepath.Join(rootfs, "run/sub/keep.txt"), 1234, 5678); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/keep.txt", filepath.Join(rootfs, "run/link")); err != nil {
		t.Fatal(err)
	}
	// Destinations through these must stay inside the rootfs.
	if err := os.Symlink("/", filepath.Join(rootfs, "evil")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../..", filepath.Join(rootfs, "evil2")); err != nil {
		t.Fatal(err)
	}
	return rootfs
}

func mustWrite(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// checks collects the failed checks of a scenario.
type checks struct{ errs []error }

func (c *checks) fail(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf(format, args...))
}

func (c *checks) err() error { return errors.Join(c.errs...) }
