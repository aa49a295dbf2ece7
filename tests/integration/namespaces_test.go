package integration

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var userNSMaps = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}

// withUserNS gives the container a new user namespace whose root is 100000 on the host.
func withUserNS(b *bundle) {
	b.setNamespace(specs.UserNamespace, "")
	b.Spec.Linux.UIDMappings = userNSMaps
	b.Spec.Linux.GIDMappings = userNSMaps
}

// TestNewNamespaces checks that each namespace type the spec asks for is new:
// the init's /proc/<pid>/ns/<name> differs from ours.
func TestNewNamespaces(t *testing.T) {
	tests := []struct {
		typ    specs.LinuxNamespaceType
		proc   string
		modify func(*bundle)
	}{
		{specs.PIDNamespace, "pid", nil},
		{specs.NetworkNamespace, "net", nil},
		{specs.IPCNamespace, "ipc", nil},
		{specs.UTSNamespace, "uts", nil},
		{specs.MountNamespace, "mnt", nil},
		{specs.CgroupNamespace, "cgroup", func(b *bundle) { b.setNamespace(specs.CgroupNamespace, "") }},
		{specs.UserNamespace, "user", withUserNS},
		{specs.TimeNamespace, "time", func(b *bundle) { b.setNamespace(specs.TimeNamespace, "") }},
	}
	for _, tc := range tests {
		t.Run(string(tc.typ), func(t *testing.T) {
			b := newBundle(t, "sleep", "100")
			if tc.modify != nil {
				tc.modify(b)
			}
			pid := b.start()
			if got, host := nsInode(t, pid, tc.proc), nsInode(t, os.Getpid(), tc.proc); got == host {
				t.Errorf("%s namespace of the container is the host's (%s)", tc.typ, got)
			}
			b.remove()
		})
	}
}

// TestUserNamespaceMapping: uid 0 inside is 100000 outside.
func TestUserNamespaceMapping(t *testing.T) {
	b := newBundle(t, "sh", "-c", "id -u >/tmp/id.tmp; id -g >>/tmp/id.tmp; mv /tmp/id.tmp /tmp/id; exec sleep 100")
	b.Spec.Root.Readonly = false
	withUserNS(b)
	pid := b.start()
	inside := strings.Fields(waitFile(t, b.rootfsFile("tmp/id")))
	if len(inside) != 2 || inside[0] != "0" || inside[1] != "0" {
		t.Errorf("id -u, id -g inside: %q, want 0 0", inside)
	}
	if uid := procStatusField(t, pid, "Uid"); uid != "100000 100000 100000 100000" {
		t.Errorf("Uid of the init seen from the host: %q, want 100000 everywhere", uid)
	}
	if gid := procStatusField(t, pid, "Gid"); gid != "100000 100000 100000 100000" {
		t.Errorf("Gid of the init seen from the host: %q, want 100000 everywhere", gid)
	}
	uidMap, _ := os.ReadFile(fmt.Sprintf("/proc/%d/uid_map", pid))
	if f := strings.Fields(string(uidMap)); strings.Join(f, " ") != "0 100000 65536" {
		t.Errorf("uid_map: %q", uidMap)
	}
	b.remove()
}

// TestTimeNamespaceOffsets: linux.timeOffsets shift the container's clocks.
func TestTimeNamespaceOffsets(t *testing.T) {
	const boot, mono = 1000000, 2000000
	b := newBundle(t, "sh", "-c", "cat /proc/self/timens_offsets; cat /proc/uptime")
	b.setNamespace(specs.TimeNamespace, "")
	b.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{
		"boottime":  {Secs: boot},
		"monotonic": {Secs: mono, Nanosecs: 7},
	}
	hostUp := uptime(t, mustRead(t, "/proc/uptime"))
	r := b.run()
	if r.Code != 0 {
		t.Fatalf("rt run: %s", r)
	}
	if out := strings.Join(strings.Fields(r.Stdout), " "); !strings.Contains(out, fmt.Sprintf("monotonic %d 7", mono)) || !strings.Contains(out, fmt.Sprintf("boottime %d 0", boot)) {
		t.Errorf("timens_offsets inside: %q", r.Stdout)
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	// /proc/uptime follows the boottime clock: at least the offset ahead of ours.
	if in := uptime(t, lines[len(lines)-1]); in < hostUp+boot {
		t.Errorf("uptime inside %.0f, host %.0f: boottime offset %d not applied", in, hostUp, boot)
	}
	assertNoLeaks(t, b, 0)
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func uptime(t *testing.T, line string) float64 {
	t.Helper()
	f := strings.Fields(line)
	if len(f) == 0 {
		t.Fatalf("uptime: %q", line)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		t.Fatalf("uptime %q: %v", line, err)
	}
	return v
}

// TestJoinNamespaces: a second container joins a namespace of the first by
// path (same inode from outside), and sees what lives there from inside.
func TestJoinNamespaces(t *testing.T) {
	tests := []struct {
		typ   specs.LinuxNamespaceType
		proc  string
		first func(*bundle)
		// second adjusts the joining container; inside is its command, whose
		// output (in the rootfs its /tmp is in) must contain want.
		second func(*bundle)
		inside string
		want   string
	}{
		{typ: specs.NetworkNamespace, proc: "net", inside: "readlink /proc/self/ns/net"},
		{typ: specs.IPCNamespace, proc: "ipc", inside: "readlink /proc/self/ns/ipc"},
		{typ: specs.UTSNamespace, proc: "uts",
			first:  func(b *bundle) { b.Spec.Hostname = "first-host" },
			second: func(b *bundle) { b.Spec.Hostname = "" },
			inside: "hostname", want: "first-host"},
		// /proc of the second container shows the first's sleep as pid 1.
		{typ: specs.PIDNamespace, proc: "pid", inside: "cat /proc/1/cmdline", want: "sleep"},
		{typ: specs.CgroupNamespace, proc: "cgroup",
			first:  func(b *bundle) { b.setNamespace(specs.CgroupNamespace, "") },
			inside: "readlink /proc/self/ns/cgroup"},
	}
	for _, tc := range tests {
		t.Run(string(tc.typ), func(t *testing.T) {
			a := newBundle(t, "sleep", "100")
			if tc.first != nil {
				tc.first(a)
			}
			pidA := a.start()
			b := newBundle(t, "sh", "-c", tc.inside+" >/tmp/out.tmp; mv /tmp/out.tmp /tmp/out")
			b.Spec.Root.Readonly = false
			b.setNamespace(tc.typ, fmt.Sprintf("/proc/%d/ns/%s", pidA, tc.proc))
			if tc.second != nil {
				tc.second(b)
			}
			b.create()
			pidB := b.pid()
			if got, want := nsInode(t, pidB, tc.proc), nsInode(t, pidA, tc.proc); got != want {
				t.Errorf("joined %s namespace: %s, want the first container's %s", tc.typ, got, want)
			}
			b.mustRT("start", b.ID)
			b.waitStatus("stopped")
			got := waitFile(t, b.rootfsFile("tmp/out"))
			want := tc.want
			if want == "" {
				want = nsInode(t, pidA, tc.proc)
			}
			if !strings.Contains(got, want) {
				t.Errorf("inside the joining container: %q, want %q", got, want)
			}
			b.deleteAndCheck(pidB)
			a.remove()
		})
	}
}

// TestJoinUserNamespace: a container joins another's user namespace by path
// (nsenter.Spawn) and gets its mapping: root inside, 100000 outside.
func TestJoinUserNamespace(t *testing.T) {
	a := newBundle(t, "sleep", "100")
	withUserNS(a)
	pidA := a.start()

	b := newBundle(t, "sh", "-c", "id -u >/tmp/id.tmp; mv /tmp/id.tmp /tmp/id; exec sleep 100")
	b.Spec.Root.Readonly = false
	b.setNamespace(specs.UserNamespace, fmt.Sprintf("/proc/%d/ns/user", pidA))
	pidB := b.start()
	if got, want := nsInode(t, pidB, "user"), nsInode(t, pidA, "user"); got != want {
		t.Errorf("joined user namespace: %s, want %s", got, want)
	}
	// The other namespaces are new ones, owned by the joined user namespace.
	if got, other := nsInode(t, pidB, "net"), nsInode(t, pidA, "net"); got == other {
		t.Errorf("net namespace shared with the first container: %s", got)
	}
	if got := strings.TrimSpace(waitFile(t, b.rootfsFile("tmp/id"))); got != "0" {
		t.Errorf("id -u inside: %q, want 0", got)
	}
	if uid := procStatusField(t, pidB, "Uid"); uid != "100000 100000 100000 100000" {
		t.Errorf("Uid of the joining init from the host: %q", uid)
	}
	mapA, _ := os.ReadFile(fmt.Sprintf("/proc/%d/uid_map", pidA))
	mapB, _ := os.ReadFile(fmt.Sprintf("/proc/%d/uid_map", pidB))
	if string(mapA) != string(mapB) {
		t.Errorf("uid_map: %q, want the first container's %q", mapB, mapA)
	}
	b.remove()
	a.remove()
}

// TestJoinMountNamespace: the container's init joins a mount namespace by path
// (nsenter.Spawn) and builds its rootfs there: a tmpfs mounted only in that
// namespace, over the bundle's rootfs/mnt, is what the container sees.
//
// The namespace is a host-like one (from unshare -m): rt init is dynamically
// linked and its loader must resolve in the joined namespace, so joining a
// pivoted container's mount namespace fails with a clear error (below).
func TestJoinMountNamespace(t *testing.T) {
	b := newBundle(t, "cat", "/mnt/marker")
	holder := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
		"mount -t tmpfs none "+b.rootfsFile("mnt")+" && echo only-in-ns >"+b.rootfsFile("mnt/marker")+" && echo ok && exec sleep 100")
	os.MkdirAll(b.rootfsFile("mnt"), 0o755)
	out, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { holder.Process.Kill(); holder.Wait() }()
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ok\n" {
		t.Fatalf("mount namespace holder: %q", line)
	}
	if _, err := os.Stat(b.rootfsFile("mnt/marker")); err == nil {
		t.Fatal("the holder's tmpfs is visible on the host")
	}
	b.setNamespace(specs.MountNamespace, fmt.Sprintf("/proc/%d/ns/mnt", holder.Process.Pid))
	b.create()
	pid := b.pid()
	if got, want := nsInode(t, pid, "mnt"), nsInode(t, holder.Process.Pid, "mnt"); got != want {
		t.Errorf("joined mount namespace: %s, want %s", got, want)
	}
	b.mustRT("start", b.ID)
	b.waitStatus("stopped")
	b.deleteAndCheck(pid)

	// A pivoted container's mount namespace has no loader for rt init.
	a := newBundle(t, "sleep", "100")
	pidA := a.start()
	c := newBundle(t, "true")
	c.setNamespace(specs.MountNamespace, fmt.Sprintf("/proc/%d/ns/mnt", pidA))
	c.write()
	if r := c.rt("create", "--bundle", c.Dir, c.ID); r.Code == 0 || !strings.Contains(r.Stderr, "mount namespace") {
		t.Errorf("create joining a container's mount namespace: %s, want an error naming the mount namespace", r)
	}
	assertNoLeaks(t, c, 0)
	a.remove()
}
