package kerneltest

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

type named struct {
	bit  uint64
	name string
}

func names(v uint64, table []named) string {
	var out []string
	for _, n := range table {
		if v&n.bit == n.bit && n.bit != 0 {
			out = append(out, n.name)
			v &^= n.bit
		}
	}
	if v != 0 {
		out = append(out, fmt.Sprintf("%#x", v))
	}
	if len(out) == 0 {
		return "0"
	}
	return strings.Join(out, "|")
}

var msTable = []named{
	{unix.MS_RDONLY, "ro"}, {unix.MS_NOSUID, "nosuid"}, {unix.MS_NODEV, "nodev"}, {unix.MS_NOEXEC, "noexec"},
	{unix.MS_SYNCHRONOUS, "sync"}, {unix.MS_REMOUNT, "remount"}, {unix.MS_MANDLOCK, "mand"},
	{unix.MS_DIRSYNC, "dirsync"}, {unix.MS_NOSYMFOLLOW, "nosymfollow"}, {unix.MS_NOATIME, "noatime"},
	{unix.MS_NODIRATIME, "nodiratime"}, {unix.MS_BIND, "bind"}, {unix.MS_MOVE, "move"}, {unix.MS_REC, "rec"},
	{unix.MS_SILENT, "silent"}, {unix.MS_UNBINDABLE, "unbindable"}, {unix.MS_PRIVATE, "private"},
	{unix.MS_SLAVE, "slave"}, {unix.MS_SHARED, "shared"}, {unix.MS_RELATIME, "relatime"},
	{unix.MS_I_VERSION, "iversion"}, {unix.MS_STRICTATIME, "strictatime"}, {unix.MS_LAZYTIME, "lazytime"},
}

func msFlags(f uintptr) string { return names(uint64(f), msTable) }

var attrTable = []named{
	{unix.MOUNT_ATTR_RDONLY, "ro"}, {unix.MOUNT_ATTR_NOSUID, "nosuid"}, {unix.MOUNT_ATTR_NODEV, "nodev"},
	{unix.MOUNT_ATTR_NOEXEC, "noexec"}, {unix.MOUNT_ATTR_NOATIME, "noatime"},
	{unix.MOUNT_ATTR_STRICTATIME, "strictatime"}, {unix.MOUNT_ATTR_NODIRATIME, "nodiratime"},
	{unix.MOUNT_ATTR_IDMAP, "idmap"}, {unix.MOUNT_ATTR_NOSYMFOLLOW, "nosymfollow"},
}

// attrFlags names MOUNT_ATTR_* bits; the atime field (relatime is 0) is
// named when it is cleared as a whole.
func attrFlags(v uint64) string {
	if v&unix.MOUNT_ATTR__ATIME == unix.MOUNT_ATTR__ATIME {
		rest := names(v&^unix.MOUNT_ATTR__ATIME, attrTable)
		if rest == "0" {
			return "atime"
		}
		return "atime|" + rest
	}
	return names(v, attrTable)
}

var cloneTable = []named{
	{unix.CLONE_NEWNS, "CLONE_NEWNS"}, {unix.CLONE_NEWUTS, "CLONE_NEWUTS"}, {unix.CLONE_NEWIPC, "CLONE_NEWIPC"},
	{unix.CLONE_NEWUSER, "CLONE_NEWUSER"}, {unix.CLONE_NEWPID, "CLONE_NEWPID"}, {unix.CLONE_NEWNET, "CLONE_NEWNET"},
	{unix.CLONE_NEWCGROUP, "CLONE_NEWCGROUP"}, {unix.CLONE_NEWTIME, "CLONE_NEWTIME"},
}

func cloneFlags(f int) string { return names(uint64(f), cloneTable) }

var rlimits = map[int]string{
	unix.RLIMIT_AS: "RLIMIT_AS", unix.RLIMIT_CORE: "RLIMIT_CORE", unix.RLIMIT_CPU: "RLIMIT_CPU",
	unix.RLIMIT_DATA: "RLIMIT_DATA", unix.RLIMIT_FSIZE: "RLIMIT_FSIZE", unix.RLIMIT_LOCKS: "RLIMIT_LOCKS",
	unix.RLIMIT_MEMLOCK: "RLIMIT_MEMLOCK", unix.RLIMIT_MSGQUEUE: "RLIMIT_MSGQUEUE", unix.RLIMIT_NICE: "RLIMIT_NICE",
	unix.RLIMIT_NOFILE: "RLIMIT_NOFILE", unix.RLIMIT_NPROC: "RLIMIT_NPROC", unix.RLIMIT_RSS: "RLIMIT_RSS",
	unix.RLIMIT_RTPRIO: "RLIMIT_RTPRIO", unix.RLIMIT_RTTIME: "RLIMIT_RTTIME",
	unix.RLIMIT_SIGPENDING: "RLIMIT_SIGPENDING", unix.RLIMIT_STACK: "RLIMIT_STACK",
}

func rlimitName(r int) string {
	if n, ok := rlimits[r]; ok {
		return n
	}
	return fmt.Sprint(r)
}
