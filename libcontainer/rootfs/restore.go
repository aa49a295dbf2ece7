package rootfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Resolve returns where path lands inside rootfs when symlinks are followed
// without leaving it, as Setup resolves mount destinations: the mount point
// CRIU finds in the container's mount table. A path that does not resolve
// is returned cleaned.
func Resolve(rootfs, path string) string {
	clean := filepath.Join("/", path)
	f, err := openInRoot(rootfs, path)
	if err != nil {
		return clean
	}
	defer f.Close()
	real, err := os.Readlink(procFdPath(f))
	if err != nil {
		return clean
	}
	if real == rootfs {
		return "/"
	}
	rel, ok := strings.CutPrefix(real, rootfs+"/")
	if !ok {
		return clean
	}
	return "/" + rel
}

// PrepareRestore makes in rootfs the mount points of the spec's mounts, as
// Setup makes them, for a CRIU restore: CRIU mounts on existing paths only.
// Mounts under a tmpfs mount are skipped (CRIU restores a tmpfs with its
// contents, mount points included), and so are cgroup mounts (their
// directories come with the tmpfs or the cgroup filesystem). A mount point
// inside an earlier bind mount is made in that bind's source, where Setup's
// lookup through the bind found it; nothing is mounted here.
// bundle makes relative bind sources absolute.
func PrepareRestore(rootfs, bundle string, mounts []specs.Mount) error {
	type bind struct{ dest, src string }
	var tmpfs []string
	var binds []bind
	under := func(p, dir string) (string, bool) {
		if dir == "/" {
			return strings.TrimPrefix(p, "/"), true
		}
		return strings.CutPrefix(p, dir+"/")
	}
	for i := range mounts {
		m := &mounts[i]
		dest := Resolve(rootfs, m.Destination)
		skip := isCgroup(m)
		for _, t := range tmpfs {
			if _, ok := under(dest, t); ok {
				skip = true
			}
		}
		if m.Type == "tmpfs" {
			tmpfs = append(tmpfs, dest)
		}
		if skip {
			continue
		}
		dir := true
		var src string
		if isBind(m) {
			src = m.Source
			if !filepath.IsAbs(src) {
				src = filepath.Join(bundle, src)
			}
			var st unix.Stat_t
			if err := unix.Stat(src, &st); err != nil {
				return fmt.Errorf("mounts[%d].source %s: %w", i, src, err)
			}
			dir = st.Mode&unix.S_IFMT == unix.S_IFDIR
		}
		// The last bind mounted over dest's parents has its mount point.
		root, rel := rootfs, dest
		for _, b := range binds {
			if r, ok := under(dest, b.dest); ok {
				root, rel = b.src, r
			}
		}
		if rel != "" && rel != "/" {
			if err := prepareRestoreDestination(root, rel, dir); err != nil {
				return fmt.Errorf("mounts[%d] (%s): %w", i, m.Destination, err)
			}
		}
		if src != "" {
			binds = append(binds, bind{dest: dest, src: src})
		}
	}
	return nil
}

// prepareRestoreDestination makes dest inside rootfs as Setup would.
func prepareRestoreDestination(rootfs, dest string, dir bool) error {
	r, err := openRootDir(rootfs)
	if err != nil {
		return err
	}
	defer r.Close()
	f, err := prepareDestination(r, dest, dir)
	if err != nil {
		return err
	}
	return f.Close()
}
