package libcontainer

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// countMountsAt counts the mounts stacked on path in rt's mount namespace.
func countMountsAt(path string) (int, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && unescapeMountPath(fields[4]) == path {
			n++
		}
	}
	return n, sc.Err()
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unmountRootfs detaches what a container without a mount namespace of its
// own stacked on its rootfs (its bind, and everything mounted under it),
// leaving the before mounts that were there when it was created.
func unmountRootfs(rootfs string, before int) error {
	for i := 0; i < 16; i++ {
		n, err := countMountsAt(rootfs)
		if err != nil {
			return err
		}
		if n <= before {
			return nil
		}
		if err := unix.Unmount(rootfs, unix.MNT_DETACH); err != nil {
			return fmt.Errorf("unmount rootfs %s: %w", rootfs, err)
		}
	}
	return fmt.Errorf("unmount rootfs %s: mounts keep reappearing", rootfs)
}
