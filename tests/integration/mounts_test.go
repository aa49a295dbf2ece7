package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// output runs the container to completion and returns its stdout, failing
// the test unless it exits 0.
func (b *bundle) output(extra ...string) string {
	b.t.Helper()
	r := b.run(extra...)
	if r.Code != 0 {
		b.t.Fatalf("rt run: %s", r)
	}
	assertNoLeaks(b.t, b, 0)
	return r.Stdout
}

// mountLine returns the line of a mountinfo dump whose mount point is dest.
func mountLine(mountinfo, dest string) string {
	var last string
	for _, l := range strings.Split(mountinfo, "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && f[4] == dest {
			last = l // the last one is the top of the stack
		}
	}
	return last
}

// mountOpts returns the per-mount options (field 6) and the super options of a mountinfo line.
func mountOpts(line string) (string, string) {
	f := strings.Fields(line)
	if len(f) < 6 {
		return "", ""
	}
	super := ""
	for i, x := range f {
		if x == "-" && i+3 < len(f) {
			super = f[i+1] + " " + f[i+3]
		}
	}
	return f[5], super
}

// hostDir makes a world-readable directory with one file in it.
func hostDir(t *testing.T, name string) string {
	t.Helper()
	d := filepath.Join(workDir, name+"-"+sanitize(t.Name()))
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "file"), []byte("host-data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// hostMount mounts on the host for the length of the test.
func hostMount(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
		t.Fatalf("mount %v: %v: %s", args, err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", args[len(args)-1]).Run() })
}

func TestMountTypesAndOptions(t *testing.T) {
	src := hostDir(t, "src")
	// A submount tells bind from rbind, and ro from rro.
	os.Mkdir(filepath.Join(src, "sub"), 0o755)
	hostMount(t, "-t", "tmpfs", "-o", "size=1m", "subfs", filepath.Join(src, "sub"))

	tests := []struct {
		name  string
		mount specs.Mount
		// script runs inside with the mount at /mnt; its output must contain every want.
		script string
		want   []string
	}{
		{
			name:   "tmpfs-size-mode",
			mount:  specs.Mount{Destination: "/mnt", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m", "mode=700", "nosuid", "nodev", "noexec"}},
			script: `grep ' /mnt ' /proc/self/mountinfo; stat -c 'perm=%a' /mnt`,
			want:   []string{"rw,nosuid,nodev,noexec", "- tmpfs tmpfs", "size=1024k", "mode=700", "perm=700"},
		},
		{
			name:   "noexec-enforced",
			mount:  specs.Mount{Destination: "/mnt", Type: "tmpfs", Source: "tmpfs", Options: []string{"noexec"}},
			script: `cp /bin/busybox /mnt/bb && /mnt/bb true; echo "rc=$?"`,
			want:   []string{"rc=126"},
		},
		{
			name: "bind-ro",
			// Tools share tmpfs options with binds; the kernel ignores them there.
			mount:  specs.Mount{Destination: "/mnt", Type: "bind", Source: src, Options: []string{"bind", "ro", "mode=755", "size=1k"}},
			script: `cat /mnt/file; touch /mnt/new 2>&1; grep ' /mnt ' /proc/self/mountinfo`,
			want:   []string{"host-data", "Read-only file system", " ro"},
		},
		{
			name:  "bind-not-recursive",
			mount: specs.Mount{Destination: "/mnt", Type: "none", Source: src, Options: []string{"bind"}},
			// Without rbind the submount is not carried over.
			script: `grep -c ' /mnt/sub ' /proc/self/mountinfo; echo ok`,
			want:   []string{"0\nok"},
		},
		{
			name:   "rbind-ro-only-top",
			mount:  specs.Mount{Destination: "/mnt", Type: "none", Source: src, Options: []string{"rbind", "ro"}},
			script: `touch /mnt/x 2>&1; touch /mnt/sub/y && echo sub-writable`,
			want:   []string{"Read-only file system", "sub-writable"},
		},
		{
			name:   "rbind-rro",
			mount:  specs.Mount{Destination: "/mnt", Type: "none", Source: src, Options: []string{"rbind", "rro"}},
			script: `touch /mnt/x 2>&1; touch /mnt/sub/y 2>&1; grep ' /mnt/sub ' /proc/self/mountinfo`,
			want:   []string{"/mnt/x: Read-only file system", "/mnt/sub/y: Read-only file system", " ro,"},
		},
		{
			name:   "proc",
			mount:  specs.Mount{Destination: "/mnt", Type: "proc", Source: "proc"},
			script: `grep ' /mnt ' /proc/self/mountinfo; test -e /mnt/1/status && echo pid1-visible`,
			want:   []string{"- proc proc", "pid1-visible"},
		},
		{
			name:   "sysfs",
			mount:  specs.Mount{Destination: "/mnt", Type: "sysfs", Source: "sysfs", Options: []string{"ro"}},
			script: `grep ' /mnt ' /proc/self/mountinfo; ls /mnt/kernel >/dev/null && echo has-kernel`,
			want:   []string{"- sysfs sysfs", "has-kernel"},
		},
		{
			name:   "mqueue",
			mount:  specs.Mount{Destination: "/mnt", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "nodev", "noexec"}},
			script: `grep ' /mnt ' /proc/self/mountinfo`,
			want:   []string{"- mqueue mqueue"},
		},
		{
			name:   "devpts",
			mount:  specs.Mount{Destination: "/mnt", Type: "devpts", Source: "devpts", Options: []string{"newinstance", "ptmxmode=0666", "mode=0620"}},
			script: `grep ' /mnt ' /proc/self/mountinfo; ls /mnt`,
			want:   []string{"- devpts devpts", "ptmxmode=666", "ptmx"},
		},
		{
			name:   "propagation-private",
			mount:  specs.Mount{Destination: "/mnt", Type: "bind", Source: src, Options: []string{"rbind", "rprivate"}},
			script: `grep ' /mnt ' /proc/self/mountinfo | grep -c -e shared: -e master:; true`,
			want:   []string{"0"},
		},
		{
			name:   "propagation-shared",
			mount:  specs.Mount{Destination: "/mnt", Type: "bind", Source: src, Options: []string{"rbind", "rshared"}},
			script: `grep ' /mnt ' /proc/self/mountinfo; grep ' /mnt/sub ' /proc/self/mountinfo`,
			want:   []string{" shared:"},
		},
		{
			name:  "propagation-slave",
			mount: specs.Mount{Destination: "/mnt", Type: "bind", Source: src, Options: []string{"rbind", "shared", "slave"}},
			// shared then slave: a slave of a peer group of its own is private again; what matters is it is not shared.
			script: `grep ' /mnt ' /proc/self/mountinfo | grep -c shared:; true`,
			want:   []string{"0"},
		},
		{
			name:   "tmpcopyup",
			mount:  specs.Mount{Destination: "/etc", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup"}},
			script: `grep ' /etc ' /proc/self/mountinfo; cat /etc/passwd; echo changed > /etc/group && echo written`,
			want:   []string{"- tmpfs tmpfs", "root:x:0:0", "written"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "sh", "-c", tc.script)
			b.Spec.Mounts = append(b.Spec.Mounts, tc.mount)
			out := b.output()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tc.name == "tmpcopyup" {
				if data, _ := os.ReadFile(filepath.Join(b.Rootfs, "etc/group")); strings.Contains(string(data), "changed") {
					t.Errorf("tmpcopyup write reached the rootfs")
				}
			}
		})
	}
	if entries, _ := os.ReadDir(src); len(entries) != 2 {
		t.Errorf("host source changed: %v", entries)
	}
}

func TestMountOverlay(t *testing.T) {
	lower := hostDir(t, "lower")
	upper := hostDir(t, "upper")
	os.Remove(filepath.Join(upper, "file"))
	work := hostDir(t, "work")
	os.Remove(filepath.Join(work, "file"))
	b := newBundle(t, "sh", "-c", `cat /mnt/file; echo new > /mnt/created; grep ' /mnt ' /proc/self/mountinfo`)
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/mnt", Type: "overlay", Source: "overlay",
		Options: []string{"lowerdir=" + lower, "upperdir=" + upper, "workdir=" + work}})
	out := b.output()
	if !strings.Contains(out, "host-data") || !strings.Contains(out, "- overlay overlay") {
		t.Errorf("overlay: %s", out)
	}
	if data, err := os.ReadFile(filepath.Join(upper, "created")); err != nil || string(data) != "new\n" {
		t.Errorf("upperdir/created: %q, %v", data, err)
	}
	if _, err := os.Stat(filepath.Join(lower, "created")); err == nil {
		t.Errorf("write reached lowerdir")
	}
}

// TestMountCgroupV1 checks the per-controller view of the container's own
// cgroup: its limit and its process are what the container sees at the root.
func TestMountCgroupV1(t *testing.T) {
	b := newBundle(t, "sh", "-c", `cat /sys/fs/cgroup/memory/memory.limit_in_bytes; cat /sys/fs/cgroup/pids/cgroup.procs; grep ' /sys/fs/cgroup/memory ' /proc/self/mountinfo; touch /sys/fs/cgroup/memory/x 2>&1; true`)
	limit := int64(64 << 20)
	b.Spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit}
	out := b.output()
	for _, w := range []string{"67108864", "\n1\n", "- cgroup cgroup", "memory", "Read-only file system"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	line := mountLine(out, "/sys/fs/cgroup/memory")
	if f := strings.Fields(line); len(f) < 4 || f[3] != "/" && !strings.HasSuffix(f[3], b.ID) {
		t.Errorf("memory cgroup mount root is not the container's cgroup: %s", line)
	}
}

func TestMountIdmap(t *testing.T) {
	src := hostDir(t, "idmap")
	b := newBundle(t, "sh", "-c", `stat -c 'owner=%u:%g' /mnt/file`)
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: src, Options: []string{"bind", "idmap"},
		UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 10}},
		GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 2000, Size: 10}}})
	b.write()
	r := b.run()
	if r.Code != 0 && strings.Contains(r.Stderr, "invalid argument") {
		t.Skipf("id-mapped mounts unsupported on this filesystem: %s", r.Stderr)
	}
	if r.Code != 0 || !strings.Contains(r.Stdout, "owner=1000:2000") {
		t.Fatalf("idmapped bind: %s", r)
	}
}

// TestMountRelativeDestination: the runtime-spec makes a relative
// destination relative to "/" of the container; one that climbs with ".."
// stays inside the rootfs like any other path.
func TestMountRelativeDestination(t *testing.T) {
	b := newBundle(t, "sh", "-c", `grep -e ' /mnt/rel ' -e ' /up ' /proc/self/mountinfo`)
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "mnt/rel", Type: "tmpfs", Source: "tmpfs"},
		specs.Mount{Destination: "../../up", Type: "tmpfs", Source: "tmpfs"},
	)
	out := b.output()
	for _, d := range []string{"/mnt/rel", "/up"} {
		if l := mountLine(out, d); !strings.Contains(l, "- tmpfs") {
			t.Errorf("no tmpfs on %s inside: %s", d, out)
		}
	}
	if _, err := os.Stat(filepath.Join(b.Rootfs, "mnt/rel")); err != nil {
		t.Errorf("relative destination not created in the rootfs: %v", err)
	}
}

// TestMountDestinationSymlinkEscape: symlinks in the rootfs pointing at "/"
// or "../../.." resolve inside the rootfs, never on the host.
func TestMountDestinationSymlinkEscape(t *testing.T) {
	hostProbe := "/rt-escape-" + sanitize(t.Name())
	b := newBundle(t, "sh", "-c", `grep -e ' /escaped-a ' -e ' /tmp ' -e ' /escaped-b ' /proc/self/mountinfo`)
	os.Symlink("/", filepath.Join(b.Rootfs, "abs"))
	os.Symlink("../../../../../..", filepath.Join(b.Rootfs, "up"))
	os.Symlink("../../../../tmp", filepath.Join(b.Rootfs, "uptmp"))
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "/abs/escaped-a", Type: "tmpfs", Source: "tmpfs"},
		specs.Mount{Destination: "/up" + hostProbe, Type: "tmpfs", Source: "tmpfs"},
		specs.Mount{Destination: "/up/escaped-b", Type: "tmpfs", Source: "tmpfs"},
		specs.Mount{Destination: "/uptmp", Type: "tmpfs", Source: "tmpfs"},
	)
	out := b.output()
	for _, d := range []string{"/escaped-a", "/escaped-b", "/tmp"} {
		if l := mountLine(out, d); !strings.Contains(l, "- tmpfs") {
			t.Errorf("no tmpfs on %s inside: %s", d, out)
		}
		if _, err := os.Stat(filepath.Join(b.Rootfs, d)); err != nil {
			t.Errorf("%s not created in the rootfs: %v", d, err)
		}
	}
	for _, p := range []string{"/escaped-a", "/escaped-b", hostProbe} {
		if _, err := os.Stat(p); err == nil {
			os.Remove(p)
			t.Errorf("mount destination %s escaped onto the host", p)
		}
	}
}

func TestMountErrors(t *testing.T) {
	tests := []struct {
		name  string
		mount specs.Mount
		setup func(b *bundle)
		want  []string
	}{
		{"unknown-option", specs.Mount{Destination: "/mnt", Type: "tmpfs", Source: "tmpfs", Options: []string{"frobnicate"}},
			nil, []string{"mounts[7]", "options", "frobnicate"}},
		{"missing-source", specs.Mount{Destination: "/mnt", Type: "bind", Source: "/nonexistent-rt-source", Options: []string{"bind"}},
			nil, []string{"mounts[7]", "source", "/nonexistent-rt-source"}},
		{"file-destination-for-dir", specs.Mount{Destination: "/etc/passwd", Type: "tmpfs", Source: "tmpfs"},
			nil, []string{"mounts[7]", "/etc/passwd"}},
		{"missing-type", specs.Mount{Destination: "/mnt", Source: "tmpfs"},
			nil, []string{"mounts[7].type"}},
		{"unknown-fs", specs.Mount{Destination: "/mnt", Type: "nosuchfs", Source: "x"},
			nil, []string{"mounts[7]", "nosuchfs"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "true")
			if len(b.Spec.Mounts) != 7 {
				t.Fatalf("example spec has %d mounts, the test expects 7", len(b.Spec.Mounts))
			}
			b.Spec.Mounts = append(b.Spec.Mounts, tc.mount)
			b.write()
			r := b.rt("create", "--bundle", b.Dir, b.ID)
			if r.Code == 0 {
				t.Fatalf("create succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(r.Stderr, w) {
					t.Errorf("error lacks %q: %s", w, r.Stderr)
				}
			}
			if r := b.rt("state", b.ID); r.Code == 0 {
				t.Errorf("container exists after a failed create: %s", r.Stdout)
			}
			assertNoLeaks(t, b, 0)
		})
	}
}

func TestRootReadonly(t *testing.T) {
	for _, ro := range []bool{true, false} {
		b := newBundle(t, "sh", "-c", `touch /probe 2>&1; echo rc=$?; touch /tmp/x 2>&1 || true; awk '$5 == "/"' /proc/self/mountinfo`)
		b.Spec.Root.Readonly = ro
		b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"})
		out := b.output()
		opts, _ := mountOpts(mountLine(out, "/"))
		if ro {
			if !strings.Contains(out, "Read-only file system") || !strings.HasPrefix(opts, "ro") || strings.Contains(out, "/tmp/x") {
				t.Errorf("readonly root: %s", out)
			}
		} else if !strings.Contains(out, "rc=0") || !strings.HasPrefix(opts, "rw") {
			t.Errorf("writable root: %s", out)
		}
	}
}

func TestRootfsPropagation(t *testing.T) {
	tests := []struct {
		prop        string
		want, avoid string
	}{
		{"shared", "shared:", ""},
		{"rshared", "shared:", ""},
		{"private", "", "shared:"},
		{"rprivate", "", "master:"},
		{"slave", "", "shared:"},
		{"unbindable", "unbindable", "shared:"},
	}
	for _, tc := range tests {
		t.Run(tc.prop, func(t *testing.T) {
			b := newBundle(t, "sh", "-c", `awk '$5 == "/"' /proc/self/mountinfo`)
			b.Spec.Linux.RootfsPropagation = tc.prop
			out := b.output()
			if tc.want != "" && !strings.Contains(out, tc.want) || tc.avoid != "" && strings.Contains(out, tc.avoid) {
				t.Errorf("rootfsPropagation %s: root mount %s", tc.prop, out)
			}
		})
	}
}

func TestNoPivot(t *testing.T) {
	b := newBundle(t, "sh", "-c", `ls /; cat /proc/1/comm; echo done`)
	out := b.output("--no-pivot")
	if !strings.Contains(out, "bin") || !strings.Contains(out, "sh") {
		t.Errorf("--no-pivot: %s", out)
	}
	if strings.Contains(out, "b1") || strings.Contains(out, "rt-it-") {
		t.Errorf("host paths visible with --no-pivot: %s", out)
	}
}
