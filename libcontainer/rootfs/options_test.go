package rootfs

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    []string
		flags   uintptr
		cleared uintptr
		prop    []uintptr
		recSet  uint64
		recClr  uint64
		bind    bool
		rec     bool
		data    string
		check   func(*mountOptions) bool
	}{
		{name: "empty"},
		{name: "ro nosuid nodev noexec", opts: []string{"ro", "nosuid", "nodev", "noexec"},
			flags: unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
		{name: "later option wins", opts: []string{"ro", "rw", "suid", "nosuid"},
			flags: unix.MS_NOSUID, cleared: unix.MS_RDONLY},
		{name: "atime modes exclude each other", opts: []string{"noatime", "strictatime"},
			flags: unix.MS_STRICTATIME},
		{name: "sb flags", opts: []string{"sync", "dirsync", "mand", "lazytime", "nosymfollow", "silent", "iversion"},
			flags: unix.MS_SYNCHRONOUS | unix.MS_DIRSYNC | unix.MS_MANDLOCK | unix.MS_LAZYTIME | unix.MS_NOSYMFOLLOW | unix.MS_SILENT | unix.MS_I_VERSION},
		{name: "clearing forms", opts: []string{"async", "nomand", "atime", "diratime", "norelatime", "nostrictatime", "nolazytime", "symfollow", "dev", "exec"},
			cleared: unix.MS_SYNCHRONOUS | unix.MS_MANDLOCK | unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_STRICTATIME | unix.MS_LAZYTIME | unix.MS_NOSYMFOLLOW | unix.MS_NODEV | unix.MS_NOEXEC},
		{name: "rbind", opts: []string{"rbind"}, bind: true, rec: true},
		{name: "bind", opts: []string{"bind", "defaults"}, bind: true},
		{name: "propagation in order", opts: []string{"rprivate", "shared", "runbindable", "slave", "rslave", "private", "rshared", "unbindable"},
			prop: []uintptr{unix.MS_PRIVATE | unix.MS_REC, unix.MS_SHARED, unix.MS_UNBINDABLE | unix.MS_REC, unix.MS_SLAVE,
				unix.MS_SLAVE | unix.MS_REC, unix.MS_PRIVATE, unix.MS_SHARED | unix.MS_REC, unix.MS_UNBINDABLE}},
		{name: "recursive attrs", opts: []string{"rro", "rnosuid", "rnodev", "rnoexec", "rnodiratime", "rnosymfollow"},
			recSet: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR_NODIRATIME | unix.MOUNT_ATTR_NOSYMFOLLOW},
		{name: "recursive clears", opts: []string{"rrw", "rsuid", "rdev", "rexec", "rdiratime", "rsymfollow"},
			recClr: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR_NODIRATIME | unix.MOUNT_ATTR_NOSYMFOLLOW},
		{name: "rro then rrw", opts: []string{"rro", "rrw"}, recClr: unix.MOUNT_ATTR_RDONLY},
		// Changing the atime enum must clear the whole field, or the kernel says EINVAL.
		{name: "rnoatime", opts: []string{"rnoatime"}, recSet: unix.MOUNT_ATTR_NOATIME, recClr: unix.MOUNT_ATTR__ATIME},
		{name: "rstrictatime after rnoatime", opts: []string{"rnoatime", "rstrictatime"}, recSet: unix.MOUNT_ATTR_STRICTATIME, recClr: unix.MOUNT_ATTR__ATIME},
		{name: "ratime", opts: []string{"ratime"}, recSet: unix.MOUNT_ATTR_RELATIME, recClr: unix.MOUNT_ATTR__ATIME},
		{name: "extensions", opts: []string{"tmpcopyup", "ridmap", "remount"},
			check: func(o *mountOptions) bool { return o.tmpcopyup && o.idmap && o.ridmap && o.remount }},
		{name: "data passes through in order", opts: []string{"size=64k", "nosuid", "mode=1777", "volatile"},
			flags: unix.MS_NOSUID, data: "size=64k,mode=1777,volatile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseOptions(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if o.flags != tt.flags || o.cleared != tt.cleared {
				t.Errorf("flags %#x cleared %#x, want %#x %#x", o.flags, o.cleared, tt.flags, tt.cleared)
			}
			if len(o.propagation) != len(tt.prop) {
				t.Errorf("propagation %v, want %v", o.propagation, tt.prop)
			} else {
				for i := range o.propagation {
					if o.propagation[i] != tt.prop[i] {
						t.Errorf("propagation %v, want %v", o.propagation, tt.prop)
					}
				}
			}
			if o.recAttr.Attr_set != tt.recSet || o.recAttr.Attr_clr != tt.recClr {
				t.Errorf("recursive attr set %#x clr %#x, want %#x %#x", o.recAttr.Attr_set, o.recAttr.Attr_clr, tt.recSet, tt.recClr)
			}
			if o.bind != tt.bind || o.recursive != tt.rec {
				t.Errorf("bind %v rec %v, want %v %v", o.bind, o.recursive, tt.bind, tt.rec)
			}
			if got := strings.Join(o.data, ","); got != tt.data {
				t.Errorf("data %q, want %q", got, tt.data)
			}
			if tt.check != nil && !tt.check(o) {
				t.Errorf("unexpected options %+v", o)
			}
		})
	}
}

func TestBindAttr(t *testing.T) {
	tests := []struct {
		opts     []string
		set, clr uint64
	}{
		{opts: nil},
		{opts: []string{"bind", "ro", "nosuid"}, set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID},
		{opts: []string{"rw", "exec"}, clr: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOEXEC},
		{opts: []string{"noatime"}, set: unix.MOUNT_ATTR_NOATIME, clr: unix.MOUNT_ATTR__ATIME},
		{opts: []string{"strictatime"}, set: unix.MOUNT_ATTR_STRICTATIME, clr: unix.MOUNT_ATTR__ATIME},
		{opts: []string{"atime"}, set: unix.MOUNT_ATTR_RELATIME, clr: unix.MOUNT_ATTR__ATIME},
		// Superblock flags have no per-mount form.
		{opts: []string{"sync", "dirsync", "lazytime"}},
	}
	for _, tt := range tests {
		o, err := parseOptions(tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		a := o.bindAttr()
		if a.Attr_set != tt.set || a.Attr_clr != tt.clr {
			t.Errorf("%v: set %#x clr %#x, want %#x %#x", tt.opts, a.Attr_set, a.Attr_clr, tt.set, tt.clr)
		}
	}
}

func TestValidateMounts(t *testing.T) {
	ok := []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
		{Destination: "/data", Type: "none", Source: "data", Options: []string{"rbind", "rro"}},
		// runtime-tools' mounts program puts tmpfs options on binds; the kernel ignores them.
		{Destination: "/etc-shared", Source: "/etc", Options: []string{"nosuid", "strictatime", "mode=755", "size=1k", "bind", "shared"}},
		{Destination: "/merged", Type: "overlay", Source: "overlay", Options: []string{"lowerdir=/a:/b", "upperdir=/u", "workdir=/w", "volatile"}},
		{Destination: "/run", Type: "tmpfs", Options: []string{"tmpcopyup", "context=\"x\""}},
		// The runtime-spec makes a relative destination relative to "/".
		{Destination: "mnt/rel", Type: "tmpfs"},
		{Destination: "/id", Type: "bind", Source: "/src", Options: []string{"idmap"},
			UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}},
			GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}},
	}
	if err := ValidateMounts(ok); err != nil {
		t.Fatalf("valid mounts rejected: %v", err)
	}

	bad := []struct {
		m    specs.Mount
		want string
	}{
		{specs.Mount{Type: "tmpfs"}, `mounts[1].destination: missing`},
		{specs.Mount{Destination: "/a\x00b", Type: "tmpfs"}, `mounts[1].destination: contains a NUL byte`},
		{specs.Mount{Destination: "/b", Source: "/a\x00", Options: []string{"bind"}}, `mounts[1].source: contains a NUL byte`},
		{specs.Mount{Destination: "/run", Type: "tmpfs", Options: []string{"foo"}}, `mounts[1].options: unknown option "foo"`},
		{specs.Mount{Destination: "/p", Type: "proc", Options: []string{"size=1"}}, `mounts[1].options: unknown option "size=1"`},
		{specs.Mount{Destination: "/b", Source: "/x", Options: []string{"rbind", "size=1", "frob=1"}}, `mounts[1].options: unknown option "frob=1"`},
		{specs.Mount{Destination: "/b", Type: "bind"}, `mounts[1].source: required for a bind mount`},
		{specs.Mount{Destination: "/b", Source: "x"}, `mounts[1].type: required`},
		{specs.Mount{Destination: "/b", Type: "tmpfs", Options: []string{""}}, `mounts[1].options: empty option`},
		{specs.Mount{Destination: "/b", Type: "proc", Options: []string{"tmpcopyup"}}, `mounts[1].options: tmpcopyup needs a new tmpfs`},
		{specs.Mount{Destination: "/b", Type: "tmpfs", Options: []string{"idmap"}}, `mounts[1].options: id-mapped mounts need a new bind mount`},
		{specs.Mount{Destination: "/b", Source: "/s", Options: []string{"bind"},
			UIDMappings: []specs.LinuxIDMapping{{Size: 1}}}, `mounts[1].gidMappings: required with uidMappings`},
		{specs.Mount{Destination: "/b", Source: "/s", Options: []string{"bind"},
			UIDMappings: []specs.LinuxIDMapping{{Size: 0}}, GIDMappings: []specs.LinuxIDMapping{{Size: 1}}}, `mounts[1].uidMappings[0].size: must be positive`},
	}
	for _, tt := range bad {
		err := ValidateMounts([]specs.Mount{ok[0], tt.m})
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%+v: got %v, want prefix %q", tt.m, err, tt.want)
		}
	}
}

// TestValidateImpliedIDMaps: "idmap" without mappings of its own takes the
// container's, which needs a user namespace, new or joined.
func TestValidateImpliedIDMaps(t *testing.T) {
	idmapped := func(opts ...string) []specs.Mount {
		return []specs.Mount{{Destination: "/id", Type: "bind", Source: "/src", Options: opts}}
	}
	userns := &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.UserNamespace, Path: "/proc/1/ns/user"}}}
	for _, tt := range []struct {
		name string
		spec specs.Spec
		want string
	}{
		{"joined userns", specs.Spec{Mounts: idmapped("bind", "idmap"), Linux: userns}, ""},
		{"no userns", specs.Spec{Mounts: idmapped("bind", "idmap")}, `mounts[0].options: idmap without uidMappings/gidMappings`},
		{"ridmap", specs.Spec{Mounts: idmapped("rbind", "ridmap"), Linux: &specs.Linux{}}, `mounts[0].options: ridmap without`},
		{"plain bind", specs.Spec{Mounts: idmapped("bind")}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(&tt.spec)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)) {
				t.Errorf("Validate: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestValidateDevices(t *testing.T) {
	tests := []struct {
		d    specs.LinuxDevice
		want string
	}{
		{specs.LinuxDevice{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}, ""},
		{specs.LinuxDevice{Path: "/data/fifo", Type: "p"}, ""},
		{specs.LinuxDevice{Path: "dev/x", Type: "c"}, "linux.devices[0].path"},
		{specs.LinuxDevice{Path: "/dev/x", Type: "z"}, "linux.devices[0].type"},
		{specs.LinuxDevice{Path: "/dev/x", Type: "b", Major: -1}, "linux.devices[0].major: -1 is outside 0..4095"},
		{specs.LinuxDevice{Path: "/dev/x", Type: "c", Major: 1, Minor: 0x100000}, "linux.devices[0].minor: 1048576 is outside 0..1048575"},
		{specs.LinuxDevice{Path: "/dev/x", Type: "u", Major: 0xfff, Minor: 0xfffff}, ""},
		// A fifo has no device number to check.
		{specs.LinuxDevice{Path: "/dev/fifo", Type: "p", Major: -1}, ""},
		{specs.LinuxDevice{Path: "/", Type: "c"}, "linux.devices[0].path: must name a file"},
		{specs.LinuxDevice{Path: "/dev/x"}, "linux.devices[0].type: missing"},
	}
	for _, tt := range tests {
		err := validateDevices([]specs.LinuxDevice{tt.d})
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)) {
			t.Errorf("%+v: got %v, want %q", tt.d, err, tt.want)
		}
	}
}

// TestKnownOptions checks that every option `rt features` reports is one
// parseOptions interprets itself, not filesystem data passed through.
func TestKnownOptions(t *testing.T) {
	known := KnownOptions()
	for _, want := range []string{"ro", "rbind", "rprivate", "rro", "idmap", "tmpcopyup", "nosymfollow"} {
		if !slices.Contains(known, want) {
			t.Errorf("KnownOptions lacks %q", want)
		}
	}
	for _, opt := range known {
		o, err := parseOptions([]string{opt})
		if err != nil {
			t.Errorf("%s: %v", opt, err)
			continue
		}
		if len(o.data) != 0 {
			t.Errorf("%s: reported as known but passed to the filesystem as data", opt)
		}
	}
	if !slices.IsSorted(known) || len(slices.Compact(slices.Clone(known))) != len(known) {
		t.Errorf("KnownOptions not sorted or has duplicates: %q", known)
	}
}

// mountFlagString shows per-mount flags as /proc/self/mounts does.
func mountFlagString(f uintptr) string {
	out := []string{"rw"}
	if f&unix.MS_RDONLY != 0 {
		out[0] = "ro"
	}
	for _, n := range []struct {
		flag uintptr
		name string
	}{
		{unix.MS_NOSUID, "nosuid"}, {unix.MS_NODEV, "nodev"}, {unix.MS_NOEXEC, "noexec"},
		{unix.MS_NOSYMFOLLOW, "nosymfollow"}, {unix.MS_NOATIME, "noatime"}, {unix.MS_NODIRATIME, "nodiratime"},
		{unix.MS_RELATIME, "relatime"},
	} {
		if f&n.flag != 0 {
			out = append(out, n.name)
		}
	}
	return strings.Join(out, ",")
}

// TestBindFlags: the flags of a bind mount are exactly those its options
// name (when they name any), with runc 1.5's handling of atime and of the
// flags a user namespace locks. The cases are those of runc's
// mounts_sshfs.bats: the source is a strictatime mount remounted with the
// host options (as `mount --bind -o remount,…` does it).
func TestBindFlags(t *testing.T) {
	for _, tt := range []struct {
		host, bind string
		userns     bool
		want       string // as /proc/self/mounts shows it; "" when nothing is named
		err        string
	}{
		{host: "ro,noexec,nosymfollow,nodiratime", bind: "bind"},
		{host: "ro,noexec,nosymfollow,nodiratime", bind: "bind", userns: true},
		{host: "ro,noexec,nosymfollow,nodiratime", bind: "bind,rbind,rprivate"},
		// Unnamed flags are cleared, the atime state kept...
		{host: "ro,noexec,nosymfollow,nodiratime", bind: "bind,dev", want: "rw,nodiratime,relatime"},
		// ...but not those a user namespace locked (nosymfollow is not lockable).
		{host: "ro,noexec,nosymfollow,nodiratime", bind: "bind,dev", userns: true, want: "ro,noexec,nodiratime,relatime"},
		{host: "ro", bind: "bind,nosuid,nodev,rprivate", want: "rw,nosuid,nodev"},
		{host: "ro", bind: "bind,nosuid,nodev,rprivate", userns: true, want: "ro,nosuid,nodev"},
		{host: "ro", bind: "bind,rw,nosuid,nodev,rprivate", want: "rw,nosuid,nodev"},
		{host: "ro", bind: "bind,rw,nosuid,nodev,rprivate", userns: true, err: "cannot clear flags ro, locked on the source in a user namespace: operation not permitted"},
		{host: "nosuid,nodev,noexec,noatime", bind: "bind,dev,suid,exec,atime", want: "rw,noatime"},
		{host: "nodev,nosuid,noatime", bind: "bind,dev,suid,exec,atime", userns: true, err: "cannot clear flags nosuid,nodev,noatime, locked on the source in a user namespace: operation not permitted"},
		{host: "rw,nodev,nosuid,noexec,noatime", bind: "bind,ro", want: "ro,noatime"},
		{host: "rw,nodev,nosuid,noexec,noatime", bind: "bind,ro", userns: true, want: "ro,nosuid,nodev,noexec,noatime"},
		{host: "rw,nodev,nosymfollow", bind: "bind,ro,symfollow", want: "ro"},
		{host: "rw,nodev,nosymfollow", bind: "bind,ro,symfollow", userns: true, want: "ro,nodev"},
		{host: "rw,nodev,nosymfollow", bind: "bind,rw", userns: true, want: "rw,nodev"},
		{host: "nodev,nosuid,noatime", bind: "bind,ro,exec", want: "ro,noatime"},
		{host: "nodev,nosuid,noatime", bind: "bind,ro,exec", userns: true, want: "ro,nosuid,nodev,noatime"},
		// atime: a cleared atime flag alone keeps the source's, as mount(8).
		{host: "noatime", bind: "bind,norelatime", want: "rw,noatime"},
		{host: "noatime", bind: "bind,atime", want: "rw,noatime"},
		{host: "noatime", bind: "bind,relatime", want: "rw,relatime"},
		{host: "noatime", bind: "bind,nodiratime", want: "rw,nodiratime,relatime"},
		{host: "nodiratime", bind: "bind,strictatime", want: "rw"},
		{host: "noatime", bind: "bind,nodiratime,strictatime", want: "rw,nodiratime"},
		{host: "noatime", bind: "bind,nodiratime,norelatime", want: "rw,nodiratime,relatime"},
		{host: "noatime,nodiratime", bind: "bind,norelatime", userns: true, want: "rw,noatime,nodiratime"},
		{host: "strictatime", bind: "bind,nostrictatime", userns: true, want: "rw"},
		{host: "nodiratime", bind: "bind,diratime", userns: true, want: "rw,nodiratime,relatime"},
		{host: "relatime", bind: "bind,norelatime", userns: true, want: "rw,relatime"},
		{host: "noatime", bind: "bind,atime", userns: true, want: "rw,noatime"},
		{host: "nodiratime", bind: "bind,nodiratime", userns: true, want: "rw,nodiratime,relatime"},
		// In a user namespace the atime state is locked.
		{host: "nodiratime", bind: "bind,strictatime", userns: true, err: "cannot change the atime flags relatime,nodiratime, locked on the source in a user namespace, to strictatime: operation not permitted"},
		{host: "relatime", bind: "bind,strictatime", userns: true, err: "to strictatime"},
		{host: "noatime", bind: "bind,strictatime", userns: true, err: "to strictatime"},
		{host: "nodiratime", bind: "bind,noatime", userns: true, err: "to noatime"},
		{host: "relatime", bind: "bind,noatime", userns: true, err: "to noatime"},
		{host: "relatime", bind: "bind,nodiratime", userns: true, err: "to nodiratime"},
		{host: "strictatime", bind: "bind,relatime", userns: true, err: "cannot change the atime flags strictatime, locked"},
		{host: "strictatime", bind: "bind,noatime", userns: true, err: "to noatime"},
		{host: "strictatime", bind: "bind,nodiratime", userns: true, err: "to nodiratime"},
		{host: "noatime", bind: "bind,relatime", userns: true, err: "cannot change the atime flags noatime, locked on the source in a user namespace, to relatime"},
	} {
		name := fmt.Sprintf("%s on %s, userns %t", tt.bind, tt.host, tt.userns)
		h, err := parseOptions(strings.Split(tt.host, ","))
		if err != nil {
			t.Fatal(err)
		}
		src, err := h.bindFlags(0, false) // remounted from strictatime
		if err != nil {
			t.Fatal(err)
		}
		o, err := parseOptions(strings.Split(tt.bind, ","))
		if err != nil {
			t.Fatal(err)
		}
		if !o.namesBindFlags() {
			if tt.want != "" || tt.err != "" {
				t.Errorf("%s: names no flag", name)
			}
			continue
		}
		got, err := o.bindFlags(src, tt.userns)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, unix.EPERM) {
				t.Errorf("%s: %v (%s), want error %q", name, err, mountFlagString(got), tt.err)
			}
		case err != nil:
			t.Errorf("%s: %v", name, err)
		case mountFlagString(got) != tt.want:
			t.Errorf("%s: %s, want %s", name, mountFlagString(got), tt.want)
		}
	}
}

func TestChangeAttr(t *testing.T) {
	for _, tt := range []struct {
		from, to uintptr
		set, clr uint64
	}{
		{unix.MS_RELATIME, unix.MS_RELATIME, 0, 0},
		{unix.MS_RELATIME | unix.MS_RDONLY | unix.MS_NOEXEC, unix.MS_RELATIME | unix.MS_NOSUID,
			unix.MOUNT_ATTR_NOSUID, unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOEXEC},
		{unix.MS_NOATIME, unix.MS_RELATIME | unix.MS_NODIRATIME, unix.MOUNT_ATTR_RELATIME | unix.MOUNT_ATTR_NODIRATIME, unix.MOUNT_ATTR__ATIME},
		{unix.MS_RELATIME, 0, unix.MOUNT_ATTR_STRICTATIME, unix.MOUNT_ATTR__ATIME},
		{0, unix.MS_NOATIME | unix.MS_NOSYMFOLLOW, unix.MOUNT_ATTR_NOATIME | unix.MOUNT_ATTR_NOSYMFOLLOW, unix.MOUNT_ATTR__ATIME},
	} {
		a := changeAttr(tt.from, tt.to)
		if a.Attr_set != tt.set || a.Attr_clr != tt.clr {
			t.Errorf("%s -> %s: set %#x clr %#x, want %#x %#x", mountFlagString(tt.from), mountFlagString(tt.to), a.Attr_set, a.Attr_clr, tt.set, tt.clr)
		}
	}
}

func TestStatfsFlags(t *testing.T) {
	got := statfsFlags(unix.ST_RDONLY | unix.ST_NODEV | unix.ST_RELATIME | unix.ST_NODIRATIME | stNoSymfollow | unix.ST_SYNCHRONOUS)
	if want := uintptr(unix.MS_RDONLY | unix.MS_NODEV | unix.MS_RELATIME | unix.MS_NODIRATIME | unix.MS_NOSYMFOLLOW); got != want {
		t.Errorf("%s, want %s", mountFlagString(got), mountFlagString(want))
	}
}
