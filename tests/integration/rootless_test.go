package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Rootless rt: an unprivileged user, made for the test with subordinate ids
// in /etc/subuid and /etc/subgid, runs rt end to end. Everything the user
// gets is removed again.

// rootlessUser is an unprivileged user of one test.
type rootlessUser struct {
	t        *testing.T
	name     string
	uid, gid int
	// subID is the first of the 65536 subordinate uids and gids granted.
	subID int
	// runtimeDir is its XDG_RUNTIME_DIR, where rt keeps state (rt/).
	runtimeDir string
}

const subIDCount = 65536

// newRootlessUser makes a user with no home and no login, and grants it
// subordinate ids where useradd did not.
func newRootlessUser(t *testing.T) *rootlessUser {
	t.Helper()
	for _, tool := range []string{"useradd", "userdel", "usermod", "newuidmap", "newgidmap"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s: %v (apt-get install passwd uidmap)", tool, err)
		}
	}
	name := fmt.Sprintf("rtit%d", os.Getpid()%100000)
	if out, err := exec.Command("useradd", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd %s: %v: %s", name, err, out)
	}
	u := &rootlessUser{t: t, name: name}
	t.Cleanup(u.remove)
	id := func(flag string) int {
		out, err := exec.Command("id", flag, name).Output()
		if err != nil {
			t.Fatalf("id %s %s: %v", flag, name, err)
		}
		n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
		return n
	}
	u.uid, u.gid = id("-u"), id("-g")
	u.subID = subordinateStart("/etc/subuid", name)
	if u.subID < 0 || subordinateStart("/etc/subgid", name) != u.subID {
		// A range far above what useradd hands out, the same for gids.
		u.subID = 3000000 + (os.Getpid()%1000)*subIDCount
		r := fmt.Sprintf("%d-%d", u.subID, u.subID+subIDCount-1)
		if out, err := exec.Command("usermod", "--add-subuids", r, "--add-subgids", r, name).CombinedOutput(); err != nil {
			t.Fatalf("usermod --add-subuids %s: %v: %s", r, err, out)
		}
	}
	u.runtimeDir = filepath.Join(workDir, "xdg-"+name)
	u.ownDir(u.runtimeDir, 0o700)
	return u
}

// subordinateStart is the first id of name's range in file (/etc/subuid
// format), -1 when it has none of 65536 ids.
func subordinateStart(file, name string) int {
	f, err := os.Open(file)
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) == 3 && fields[0] == name && fields[2] == strconv.Itoa(subIDCount) {
			start, _ := strconv.Atoi(fields[1])
			return start
		}
	}
	return -1
}

// remove deletes the user and its subordinate ids, and checks both are gone.
func (u *rootlessUser) remove() {
	if out, err := exec.Command("userdel", u.name).CombinedOutput(); err != nil {
		u.t.Errorf("userdel %s: %v: %s", u.name, err, out)
	}
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		if subordinateStart(f, u.name) >= 0 {
			u.t.Errorf("%s still grants ids to the removed user %s", f, u.name)
		}
	}
	os.RemoveAll(u.runtimeDir)
}

// ownDir makes dir owned by the user.
func (u *rootlessUser) ownDir(dir string, mode os.FileMode) {
	u.t.Helper()
	chownDir(u.t, dir, u.uid, u.gid, mode)
}

// rt runs rt as the user in dir, with its XDG_RUNTIME_DIR and no --root.
func (u *rootlessUser) rt(dir string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), rtTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, rtBinary, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "XDG_RUNTIME_DIR=" + u.runtimeDir}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u.uid), Gid: uint32(u.gid), Groups: []uint32{}}}
	return runCmd(cmd)
}

func (u *rootlessUser) mustRT(dir string, args ...string) result {
	u.t.Helper()
	r := u.rt(dir, args...)
	if r.Code != 0 {
		u.t.Fatalf("rt %s as %s: %s", strings.Join(args, " "), u.name, r)
	}
	return r
}

// bundle makes a bundle the user owns (not its rootfs, hard links to root's
// template) whose config.json is what `rt spec --rootless` wrote as the
// user, running args without a terminal.
func (u *rootlessUser) bundle(args ...string) *bundle {
	u.t.Helper()
	b := newBundle(u.t, args...)
	u.ownDir(b.Dir, 0o755)
	u.mustRT(b.Dir, "spec", "--rootless")
	data, err := os.ReadFile(filepath.Join(b.Dir, "config.json"))
	if err != nil {
		u.t.Fatal(err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		u.t.Fatal(err)
	}
	spec.Process.Terminal = false
	spec.Process.Args = args
	spec.Linux.CgroupsPath = b.Spec.Linux.CgroupsPath
	b.Spec = &spec
	b.Root = filepath.Join(u.runtimeDir, "rt")
	// newBundle's clean-up runs as root with its own --root: delete what
	// the user left under its state root first.
	u.t.Cleanup(func() { u.rt(b.Dir, "delete", "--force", b.ID) })
	return b
}

// TestRootlessRunExec: `rt spec --rootless` and `rt run` end to end as an
// unprivileged user with its own uid as the container's root; state under
// $XDG_RUNTIME_DIR/rt; then a detached container, `rt exec` into it, ps,
// kill and delete.
func TestRootlessRunExec(t *testing.T) {
	u := newRootlessUser(t)
	b := u.bundle("sh", "-c", "id -u; cat /proc/self/uid_map /proc/self/gid_map; ls -ln /; grep ' /sys ' /proc/self/mountinfo")
	b.write()
	r := u.mustRT(b.Dir, "run", b.ID)
	out := strings.Fields(r.Stdout)
	if len(out) < 7 || strings.Join(out[:7], " ") != fmt.Sprintf("0 0 %d 1 0 %d 1", u.uid, u.gid) {
		t.Errorf("id -u and maps inside: %q, want root mapped to uid %d, gid %d", r.Stdout, u.uid, u.gid)
	}
	// The template's files are host root's, unmapped: the overflow ids.
	if !strings.Contains(r.Stdout, " 65534    65534 ") || !strings.Contains(r.Stdout, " bin") {
		t.Errorf("ls -ln / inside: %q, want root's files as 65534", r.Stdout)
	}
	if !strings.Contains(r.Stdout, " /sys ") {
		t.Errorf("no /sys inside: %q", r.Stdout)
	}

	b.Spec.Process.Args = []string{"sleep", "100"}
	b.write()
	u.mustRT(b.Dir, "run", "-d", b.ID)
	if _, err := os.Stat(filepath.Join(u.runtimeDir, "rt", b.ID, "state.json")); err != nil {
		t.Errorf("state not under $XDG_RUNTIME_DIR/rt: %v", err)
	}
	var st struct {
		Pid int `json:"pid"`
	}
	if err := json.Unmarshal([]byte(u.mustRT(b.Dir, "state", b.ID).Stdout), &st); err != nil {
		t.Fatal(err)
	}
	if uid := procStatusField(t, st.Pid, "Uid"); uid != strings.Repeat(strconv.Itoa(u.uid)+" ", 3)+strconv.Itoa(u.uid) {
		t.Errorf("container process Uid from the host: %q, want %d", uid, u.uid)
	}
	if r := u.mustRT(b.Dir, "exec", b.ID, "sh", "-c", "id -u; cat /proc/self/uid_map"); !strings.HasPrefix(r.Stdout, "0\n") ||
		!strings.Contains(r.Stdout, strconv.Itoa(u.uid)) {
		t.Errorf("exec: %s", r)
	}
	if r := u.mustRT(b.Dir, "list", "-q"); strings.TrimSpace(r.Stdout) != b.ID {
		t.Errorf("list as the user: %q", r.Stdout)
	}
	if r := u.mustRT(b.Dir, "ps", b.ID); !strings.Contains(r.Stdout, "sleep") {
		t.Errorf("ps: %s", r)
	}
	u.mustRT(b.Dir, "kill", b.ID, "KILL")
	b.waitStatusAs(u, "stopped")
	u.mustRT(b.Dir, "delete", b.ID)
	assertNoLeaks(t, b, st.Pid)
}

// waitStatusAs is waitStatus for a container of a rootless user.
func (b *bundle) waitStatusAs(u *rootlessUser, want string) {
	b.t.Helper()
	for i := 0; i < 500; i++ {
		var st struct{ Status string }
		if r := u.rt(b.Dir, "state", b.ID); r.Code == 0 && json.Unmarshal([]byte(r.Stdout), &st) == nil && st.Status == want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.t.Fatalf("container %s never became %s", b.ID, want)
}

// TestRootlessSubordinateIDs: a mapping of several ranges (the user's own
// id as root, its subordinate ids above) goes through newuidmap and
// newgidmap; a file the container's uid 1000 owns is the user's subordinate
// id 999 on the host.
func TestRootlessSubordinateIDs(t *testing.T) {
	u := newRootlessUser(t)
	b := u.bundle("sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map && touch /data/f && chown 1000:1001 /data/f && id -G")
	ranges := func(own int) []specs.LinuxIDMapping {
		return []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(own), Size: 1}, {ContainerID: 1, HostID: uint32(u.subID), Size: subIDCount}}
	}
	b.Spec.Linux.UIDMappings, b.Spec.Linux.GIDMappings = ranges(u.uid), ranges(u.gid)
	// setgroups is allowed when newgidmap wrote the map.
	b.Spec.Process.User.AdditionalGids = []uint32{5}
	b.Spec.Process.Capabilities.Bounding = append(b.Spec.Process.Capabilities.Bounding, "CAP_CHOWN")
	b.Spec.Process.Capabilities.Effective = append(b.Spec.Process.Capabilities.Effective, "CAP_CHOWN")
	b.Spec.Process.Capabilities.Permitted = append(b.Spec.Process.Capabilities.Permitted, "CAP_CHOWN")
	data := filepath.Join(workDir, "data-"+sanitize(t.Name()))
	u.ownDir(data, 0o755)
	t.Cleanup(func() { os.RemoveAll(data) })
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: data, Options: []string{"bind"}})
	os.MkdirAll(b.rootfsFile("data"), 0o755)
	b.write()
	r := u.mustRT(b.Dir, "run", b.ID)
	got := strings.Join(strings.Fields(r.Stdout), " ")
	want := fmt.Sprintf("0 %d 1 1 %d %d 0 %d 1 1 %d %d 0 5", u.uid, u.subID, subIDCount, u.gid, u.subID, subIDCount)
	if got != want {
		t.Errorf("uid_map, gid_map and id -G inside: %q, want %q", got, want)
	}
	if got, want := ownerOf(t, filepath.Join(data, "f")), fmt.Sprintf("%d:%d", u.subID+999, u.subID+1000); got != want {
		t.Errorf("file chowned to 1000:1001 inside is %s on the host, want %s", got, want)
	}
}

// TestRootlessHostFiles: the container's root is the user and no more on
// the host. Through a bind of host directories it reads what the user may
// read, writes only what the user may write, and cannot chown to ids it has
// no mapping for.
func TestRootlessHostFiles(t *testing.T) {
	u := newRootlessUser(t)
	host := filepath.Join(workDir, "host-"+sanitize(t.Name()))
	chownDir(t, host, 0, 0, 0o755)
	t.Cleanup(func() { os.RemoveAll(host) })
	if err := os.WriteFile(filepath.Join(host, "secret"), []byte("root only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(host, "public"), []byte("anyone may read\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	u.ownDir(filepath.Join(host, "mine"), 0o755)
	b := u.bundle("sh", "-c", `
		cat /host/public
		cat /host/secret 2>/dev/null && echo READ-SECRET
		echo x 2>/dev/null >>/host/public && echo WROTE-PUBLIC
		touch /host/new 2>/dev/null && echo CREATED-IN-ROOT-DIR
		echo ok >/host/mine/file && echo wrote-mine
		chown 1000 /host/mine/file 2>/dev/null && echo CHOWNED-UNMAPPED
		true`)
	b.Spec.Root.Readonly = false
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/host", Type: "bind", Source: host, Options: []string{"rbind"}})
	os.MkdirAll(b.rootfsFile("host"), 0o755)
	b.Spec.Process.Capabilities.Bounding = append(b.Spec.Process.Capabilities.Bounding, "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SYS_ADMIN")
	b.Spec.Process.Capabilities.Effective = b.Spec.Process.Capabilities.Bounding
	b.Spec.Process.Capabilities.Permitted = b.Spec.Process.Capabilities.Bounding
	b.write()
	r := u.mustRT(b.Dir, "run", b.ID)
	if !strings.Contains(r.Stdout, "anyone may read") || !strings.Contains(r.Stdout, "wrote-mine") {
		t.Errorf("what the user may do failed: %q", r.Stdout)
	}
	for _, bad := range []string{"READ-SECRET", "WROTE-PUBLIC", "CREATED-IN-ROOT-DIR", "CHOWNED-UNMAPPED"} {
		if strings.Contains(r.Stdout, bad) {
			t.Errorf("the container's root got past the user's rights on the host: %s\n%s", bad, r.Stdout)
		}
	}
	if got := ownerOf(t, filepath.Join(host, "mine/file")); got != fmt.Sprintf("%d:%d", u.uid, u.gid) {
		t.Errorf("file written by the container's root is %s on the host, want the user's", got)
	}
	if data, _ := os.ReadFile(filepath.Join(host, "public")); string(data) != "anyone may read\n" {
		t.Errorf("host file changed: %q", data)
	}
}

// TestRootlessCgroups: without a cgroup of its own the container runs in the
// user's (rt says so with --debug); a limit then fails naming what is
// missing; with a delegated (user-owned) cgroup the limit applies there.
func TestRootlessCgroups(t *testing.T) {
	u := newRootlessUser(t)
	b := u.bundle("true")
	b.write()
	r := u.mustRT(b.Dir, "--debug", "run", b.ID)
	if !strings.Contains(r.Stderr, "rootless") || !strings.Contains(r.Stderr, "not writable by uid "+strconv.Itoa(u.uid)) {
		t.Errorf("no debug line about the cgroups rt went without: %s", r.Stderr)
	}

	limit := int64(64 << 20)
	b.Spec.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}
	b.write()
	r = u.rt(b.Dir, "run", b.ID)
	if r.Code == 0 || !strings.Contains(r.Stderr, "linux.resources.memory") || !strings.Contains(r.Stderr, "rootless") {
		t.Errorf("memory limit without a writable cgroup: %s", r)
	}

	// Delegation: a cgroup below ours in the memory hierarchy, owned by the user.
	deleg := filepath.Join("/sys/fs/cgroup/memory", ownCgroup("memory"), testCg, "deleg-"+u.name)
	u.ownDir(deleg, 0o755)
	t.Cleanup(func() {
		u.rt(b.Dir, "delete", "--force", b.ID)
		os.Remove(deleg)
	})
	b.Spec.Linux.CgroupsPath = filepath.Join(testCg, "deleg-"+u.name, b.ID)
	b.Spec.Process.Args = []string{"sleep", "100"}
	b.write()
	u.mustRT(b.Dir, "run", "-d", b.ID)
	got, err := os.ReadFile(filepath.Join(deleg, b.ID, "memory.limit_in_bytes"))
	if procs, _ := os.ReadFile(filepath.Join(deleg, b.ID, "cgroup.procs")); len(strings.Fields(string(procs))) != 1 {
		t.Errorf("the delegated cgroup's processes: %q, want the container's init", procs)
	}
	if err != nil || strings.TrimSpace(string(got)) != strconv.FormatInt(limit, 10) {
		t.Errorf("memory.limit_in_bytes of the delegated cgroup: %q (%v), want %d", got, err, limit)
	}
	r = u.mustRT(b.Dir, "delete", "--force", b.ID)
	if _, err := os.Stat(filepath.Join(deleg, b.ID)); err == nil {
		t.Log(r)
		t.Errorf("the container's cgroup below the delegated one is left")
	}
}

// TestRootlessErrors: each refusal says which privilege is missing.
func TestRootlessErrors(t *testing.T) {
	u := newRootlessUser(t)
	tests := []struct {
		name   string
		mutate func(*bundle)
		env    string // XDG_RUNTIME_DIR override; "-" unsets it
		want   []string
	}{
		{"no user namespace", func(b *bundle) { b.dropNamespace(specs.UserNamespace) }, "",
			[]string{"linux.namespaces: a rootless container requires a user namespace"}},
		{"ids not granted", func(b *bundle) {
			b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1, Size: 1}}
		}, "", []string{"linux.uidMappings: newuidmap", "/etc/subuid", "uid " + strconv.Itoa(u.uid)}},
		{"id-mapped mount", func(b *bundle) {
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/tmp", Type: "bind", Source: "/tmp", Options: []string{"bind", "idmap"}})
		}, "", []string{"id-mapped mounts need rt to run with privileges in the initial user namespace"}},
		// root's /run/rt: absent on a fresh machine (create state root), or
		// there and not the user's (create state dir in the state root).
		{"no state root", func(*bundle) {}, "-", []string{"state root", "/run/rt", "XDG_RUNTIME_DIR"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := u.bundle("true")
			tc.mutate(b)
			b.write()
			saved := u.runtimeDir
			if tc.env == "-" {
				u.runtimeDir = ""
			}
			r := u.rt(b.Dir, "run", b.ID)
			u.runtimeDir = saved
			for _, w := range tc.want {
				if r.Code == 0 || !strings.Contains(r.Stderr, w) {
					t.Errorf("want an error with %q: %s", w, r)
				}
			}
			if _, err := os.Stat(filepath.Join(u.runtimeDir, "rt", b.ID)); err == nil {
				t.Errorf("state dir left behind")
			}
		})
	}
}
