package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Id-mapped mounts and bind sources in a container user namespace: rt's
// parent process clones those sources (the init, inside the user namespace,
// may neither id-map a host directory nor reach one its ids cannot search).

// mkdirs makes mount points in the rootfs from the host: the container's
// root may not create them in the template's root-owned directories.
func (b *bundle) mkdirs(dirs ...string) {
	b.t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(b.rootfsFile(d), 0o755); err != nil {
			b.t.Fatal(err)
		}
	}
}

// runExpecting runs the container, which must succeed and print every one
// of wants.
func (b *bundle) runExpecting(wants ...string) result {
	b.t.Helper()
	r := b.run()
	if r.Code != 0 {
		b.t.Fatalf("run: %s", r)
	}
	for _, want := range wants {
		if !strings.Contains(r.Stdout, want) {
			b.t.Errorf("inside: %q, want %s", r.Stdout, want)
		}
	}
	return r
}

// ownerOf returns "uid:gid" of path as the host sees it.
func ownerOf(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return fmt.Sprintf("%d:%d", st.Uid, st.Gid)
}

// chownDir makes dir (created if missing) owned by uid:gid with mode.
func chownDir(t *testing.T, dir string, uid, gid int, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
}

// touchOwned creates an empty file owned by uid:gid.
func touchOwned(t *testing.T, path string, uid, gid int) {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
}

// TestUserNSIdmapWrite: root of a container whose uid 0 is 100000 on the host
// writes through an id-mapped bind of a root-owned host directory (the mount
// takes the container's own mapping, as Kubernetes asks with hostUsers:
// false). Inside, the host's root files are root's; on the host, what the
// container wrote is owned by root, not by 100000. A plain bind of the same
// directory shows the overflow ids and may not be written.
func TestUserNSIdmapWrite(t *testing.T) {
	for _, tc := range []struct {
		name string
		// mappings of the mount itself; nil: the container's (implied)
		mapping []specs.LinuxIDMapping
		options []string
	}{
		{"implied", nil, []string{"bind", "idmap"}},
		{"own mappings", userNSMaps, []string{"bind"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := hostDir(t, "idmapw")
			b := newBundle(t, "sh", "-c", `stat -c 'old=%u:%g' /mnt/id/file && echo hi >/mnt/id/new && stat -c 'new=%u:%g' /mnt/id/new &&
				stat -c 'plain=%u:%g' /mnt/plain/file; echo x 2>/dev/null >/mnt/plain/denied || echo plain-denied`)
			withUserNS(b)
			b.mkdirs("mnt/id", "mnt/plain")
			b.Spec.Mounts = append(b.Spec.Mounts,
				specs.Mount{Destination: "/mnt/id", Type: "bind", Source: src, Options: tc.options,
					UIDMappings: tc.mapping, GIDMappings: tc.mapping},
				specs.Mount{Destination: "/mnt/plain", Type: "bind", Source: src, Options: []string{"bind"}})
			b.runExpecting("old=0:0", "new=0:0", "plain=65534:65534", "plain-denied")
			if got := ownerOf(t, filepath.Join(src, "new")); got != "0:0" {
				t.Errorf("the file written through the id-mapped mount is %s on the host, want 0:0", got)
			}
			if _, err := os.Stat(filepath.Join(src, "denied")); err == nil {
				t.Errorf("the plain bind let the container's root create a file in a host root directory")
			}
		})
	}
}

// TestUserNSIdmapSeveralRanges: a user namespace of two ranges and an
// id-mapped mount of three; every owner lands where the ranges say, an id in
// no range shows as the overflow id, and `ls -ln /` shows the rootfs's
// owners through the container's mapping.
func TestUserNSIdmapSeveralRanges(t *testing.T) {
	src := hostDir(t, "idmapr")
	touchOwned(t, filepath.Join(src, "a"), 10, 20)     // first mount range
	touchOwned(t, filepath.Join(src, "b"), 1005, 1006) // second
	touchOwned(t, filepath.Join(src, "c"), 5003, 5004) // third
	touchOwned(t, filepath.Join(src, "d"), 7000, 7000) // in no mount range
	b := newBundle(t, "sh", "-c", `stat -c '%n=%u:%g' /mnt/a /mnt/b /mnt/c /mnt/d && ls -ln /`)
	b.setNamespace(specs.UserNamespace, "")
	ctr := []specs.LinuxIDMapping{
		{ContainerID: 0, HostID: 100000, Size: 1000},
		{ContainerID: 1000, HostID: 300000, Size: 1000},
	}
	b.Spec.Linux.UIDMappings, b.Spec.Linux.GIDMappings = ctr, ctr
	b.mkdirs("mnt")
	// Disk id 10 shows as host 100010 (container 10), disk 1005 as host
	// 300105 (container 1105), disk 5003 as host 100503 (container 503).
	mnt := []specs.LinuxIDMapping{
		{ContainerID: 0, HostID: 100000, Size: 100},
		{ContainerID: 1000, HostID: 300100, Size: 100},
		{ContainerID: 5000, HostID: 100500, Size: 10},
	}
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: src,
		Options: []string{"bind"}, UIDMappings: mnt, GIDMappings: mnt})
	// Entries of the rootfs owned by ids of the container's ranges; the
	// rest of the template is host root's. New inodes: the rootfs shares
	// the template's by hard links.
	chownDir(t, b.rootfsFile("first"), 100000, 100000, 0o755)
	chownDir(t, b.rootfsFile("second"), 300007, 300009, 0o755)
	r := b.runExpecting("/mnt/a=10:20", "/mnt/b=1105:1106", "/mnt/c=503:504", "/mnt/d=65534:65534")
	owners := map[string]string{}
	for _, line := range strings.Split(r.Stdout, "\n") {
		if f := strings.Fields(line); len(f) >= 9 {
			owners[f[len(f)-1]] = f[2] + ":" + f[3]
		}
	}
	for name, want := range map[string]string{"first": "0:0", "second": "1007:1009", "bin": "65534:65534"} {
		if owners[name] != want {
			t.Errorf("ls -ln / shows %s owned by %q, want %s\n%s", name, owners[name], want, r.Stdout)
		}
	}
}

// TestUserNSInaccessibleSource: bind sources in a directory only host root
// may search (mode 0700) are still mounted for a user-namespaced container,
// and an exec sees them.
func TestUserNSInaccessibleSource(t *testing.T) {
	private := filepath.Join(workDir, "private-"+sanitize(t.Name()))
	chownDir(t, private, 0, 0, 0o700)
	t.Cleanup(func() { os.RemoveAll(private) })
	for _, d := range []string{"one", "two"} {
		if err := os.MkdirAll(filepath.Join(private, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(private, d, "file"), []byte(d+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := newBundle(t, "sleep", "100")
	withUserNS(b)
	b.mkdirs("mnt/one", "mnt/two")
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "/mnt/one", Type: "bind", Source: filepath.Join(private, "one"), Options: []string{"bind"}},
		specs.Mount{Destination: "/mnt/two", Type: "bind", Source: filepath.Join(private, "two"), Options: []string{"rbind", "ro"}})
	b.start()
	r := b.rt("exec", b.ID, "cat", "/mnt/one/file", "/mnt/two/file")
	if r.Code != 0 || r.Stdout != "one\ntwo\n" {
		t.Errorf("exec cat: %s", r)
	}
	b.remove()
}

// TestUserNSIdmapJoined: a container joining another's user namespace by
// path gets an "idmap" mount with that namespace's mapping (runc's implied
// mapping): a file of host uid 7 shows as 7.
func TestUserNSIdmapJoined(t *testing.T) {
	a := newBundle(t, "sleep", "100")
	withUserNS(a)
	pidA := a.start()

	src := hostDir(t, "idmapj")
	touchOwned(t, filepath.Join(src, "seven"), 7, 8)
	b := newBundle(t, "stat", "-c", "%u:%g", "/mnt/seven")
	b.setNamespace(specs.UserNamespace, fmt.Sprintf("/proc/%d/ns/user", pidA))
	b.mkdirs("mnt")
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: src, Options: []string{"rbind", "idmap"}})
	if r := b.run(); r.Code != 0 || strings.TrimSpace(r.Stdout) != "7:8" {
		t.Errorf("stat through the implied mapping of a joined user namespace: %s", r)
	}
	a.remove()
}

// TestIdmapErrors: an id-mapped mount needs mappings from somewhere.
func TestIdmapErrors(t *testing.T) {
	b := newBundle(t, "true")
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: hostDir(t, "idmape"), Options: []string{"bind", "idmap"}})
	r := b.run()
	if r.Code == 0 || !strings.Contains(r.Stderr, "mounts[") || !strings.Contains(r.Stderr, "no user namespace") {
		t.Errorf("idmap without any mapping: %s", r)
	}
}

// TestUserNSSourceInContainerTree: bind sources that name a place in the
// rootfs below an earlier mount of the container resolve in the container's
// mount tree (rt clones them in the init's mount namespace), here from a
// directory only host root may search, once plainly and once id-mapped.
func TestUserNSSourceInContainerTree(t *testing.T) {
	private := filepath.Join(workDir, "tree-"+sanitize(t.Name()))
	chownDir(t, private, 0, 0, 0o700)
	t.Cleanup(func() { os.RemoveAll(private) })
	if err := os.MkdirAll(filepath.Join(private, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	touchOwned(t, filepath.Join(private, "a/file"), 3, 4)
	b := newBundle(t, "stat", "-c", "%n=%u:%g", "/mnt/a/file", "/copy/a/file", "/idcopy/file")
	withUserNS(b)
	b.mkdirs("mnt/a", "copy", "idcopy")
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "/mnt/a", Type: "bind", Source: filepath.Join(private, "a"), Options: []string{"bind"}},
		specs.Mount{Destination: "/copy", Type: "bind", Source: b.rootfsFile("mnt"), Options: []string{"rbind"}},
		specs.Mount{Destination: "/idcopy", Type: "bind", Source: b.rootfsFile("mnt/a"), Options: []string{"bind", "idmap"}},
	)
	// Through the plain binds, host ids 3:4 are outside the container's
	// mapping; through the id-mapped one they are 3:4.
	b.runExpecting("/mnt/a/file=65534:65534", "/copy/a/file=65534:65534", "/idcopy/file=3:4")
}

// TestBindSourceSymlinkInRootfs: a bind source named inside the rootfs is
// resolved there as in the container. The image's absolute symlinks lead to
// the container's own directories, never the host's: not for the init, and
// not for rt's parent, which clones a source the container's user namespace
// cannot reach (here a link to a host directory only root may search).
func TestBindSourceSymlinkInRootfs(t *testing.T) {
	private := filepath.Join(workDir, "hostonly-"+sanitize(t.Name()))
	chownDir(t, private, 0, 0, 0o700)
	t.Cleanup(func() { os.RemoveAll(private) })
	for _, userns := range []bool{false, true} {
		t.Run(fmt.Sprintf("userns=%v", userns), func(t *testing.T) {
			b := newBundle(t, "sh", "-c", "ls /etc-copy; test -e /etc-copy/os-release && echo HOST-ETC; true")
			if userns {
				withUserNS(b)
			}
			b.mkdirs("etc-copy", "private-copy", "links")
			if err := os.WriteFile(b.rootfsFile("etc/in-image"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			os.Symlink("/etc", b.rootfsFile("links/etc"))
			os.Symlink(private, b.rootfsFile("links/private"))
			b.Spec.Mounts = append(b.Spec.Mounts,
				specs.Mount{Destination: "/etc-copy", Type: "bind", Source: b.rootfsFile("links/etc"), Options: []string{"rbind"}})
			if r := b.runExpecting("in-image"); strings.Contains(r.Stdout, "HOST-ETC") {
				t.Errorf("a symlink in the image bound the host's /etc: %s", r.Stdout)
			}
			// Inside the rootfs, the link to the private host path leads nowhere.
			b.Spec.Mounts = append(b.Spec.Mounts,
				specs.Mount{Destination: "/private-copy", Type: "bind", Source: b.rootfsFile("links/private"), Options: []string{"bind"}})
			if r := b.run(); r.Code == 0 || !strings.Contains(r.Stderr, "no such file or directory") {
				t.Errorf("a symlink in the image to a private host directory: %s", r)
			}
		})
	}
}
