package rootfs

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// flagOption is an option that sets or clears mount(2) flags.
type flagOption struct {
	set, clear uintptr
}

var flagOptions = map[string]flagOption{
	"defaults":      {},
	"ro":            {set: unix.MS_RDONLY},
	"rw":            {clear: unix.MS_RDONLY},
	"nosuid":        {set: unix.MS_NOSUID},
	"suid":          {clear: unix.MS_NOSUID},
	"nodev":         {set: unix.MS_NODEV},
	"dev":           {clear: unix.MS_NODEV},
	"noexec":        {set: unix.MS_NOEXEC},
	"exec":          {clear: unix.MS_NOEXEC},
	"sync":          {set: unix.MS_SYNCHRONOUS},
	"async":         {clear: unix.MS_SYNCHRONOUS},
	"dirsync":       {set: unix.MS_DIRSYNC},
	"mand":          {set: unix.MS_MANDLOCK},
	"nomand":        {clear: unix.MS_MANDLOCK},
	"noatime":       {set: unix.MS_NOATIME},
	"atime":         {clear: unix.MS_NOATIME},
	"nodiratime":    {set: unix.MS_NODIRATIME},
	"diratime":      {clear: unix.MS_NODIRATIME},
	"relatime":      {set: unix.MS_RELATIME},
	"norelatime":    {clear: unix.MS_RELATIME},
	"strictatime":   {set: unix.MS_STRICTATIME},
	"nostrictatime": {clear: unix.MS_STRICTATIME},
	"lazytime":      {set: unix.MS_LAZYTIME},
	"nolazytime":    {clear: unix.MS_LAZYTIME},
	"iversion":      {set: unix.MS_I_VERSION},
	"noiversion":    {clear: unix.MS_I_VERSION},
	"silent":        {set: unix.MS_SILENT},
	"loud":          {clear: unix.MS_SILENT},
	"nosymfollow":   {set: unix.MS_NOSYMFOLLOW},
	"symfollow":     {clear: unix.MS_NOSYMFOLLOW},
}

const atimeFlags = unix.MS_NOATIME | unix.MS_RELATIME | unix.MS_STRICTATIME

var propagationOptions = map[string]uintptr{
	"private":     unix.MS_PRIVATE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"shared":      unix.MS_SHARED,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"slave":       unix.MS_SLAVE,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// recursiveAttr is an "r*" option applied with mount_setattr(AT_RECURSIVE).
// atime is true for the atime options: the kernel treats atime as an enum,
// so changing it means clearing the whole MOUNT_ATTR__ATIME field.
type recursiveAttr struct {
	set, clear uint64
	atime      bool
}

var recursiveAttrOptions = map[string]recursiveAttr{
	"rro":          {set: unix.MOUNT_ATTR_RDONLY},
	"rrw":          {clear: unix.MOUNT_ATTR_RDONLY},
	"rnosuid":      {set: unix.MOUNT_ATTR_NOSUID},
	"rsuid":        {clear: unix.MOUNT_ATTR_NOSUID},
	"rnodev":       {set: unix.MOUNT_ATTR_NODEV},
	"rdev":         {clear: unix.MOUNT_ATTR_NODEV},
	"rnoexec":      {set: unix.MOUNT_ATTR_NOEXEC},
	"rexec":        {clear: unix.MOUNT_ATTR_NOEXEC},
	"rnodiratime":  {set: unix.MOUNT_ATTR_NODIRATIME},
	"rdiratime":    {clear: unix.MOUNT_ATTR_NODIRATIME},
	"rnosymfollow": {set: unix.MOUNT_ATTR_NOSYMFOLLOW},
	"rsymfollow":   {clear: unix.MOUNT_ATTR_NOSYMFOLLOW},
	// The kernel default when no atime mode is named is relatime, so the
	// "stop doing X" forms fall back to it; rnorelatime means strict updates.
	"rnoatime":       {set: unix.MOUNT_ATTR_NOATIME, atime: true},
	"ratime":         {set: unix.MOUNT_ATTR_RELATIME, atime: true},
	"rrelatime":      {set: unix.MOUNT_ATTR_RELATIME, atime: true},
	"rnorelatime":    {set: unix.MOUNT_ATTR_STRICTATIME, atime: true},
	"rstrictatime":   {set: unix.MOUNT_ATTR_STRICTATIME, atime: true},
	"rnostrictatime": {set: unix.MOUNT_ATTR_RELATIME, atime: true},
}

// mountOptions is a parsed spec mount "options" list.
type mountOptions struct {
	flags       uintptr   // MS_* flags to set
	cleared     uintptr   // MS_* flags named explicitly as off (rw, suid, …)
	propagation []uintptr // applied in order after the mount
	recAttr     unix.MountAttr
	bind        bool
	recursive   bool // rbind
	remount     bool
	idmap       bool
	ridmap      bool // idmap applied to every mount of an rbind tree
	tmpcopyup   bool
	data        []string // options the filesystem itself interprets
}

// parseOptions splits options into flags, propagation, recursive attributes,
// rt extensions and filesystem data. It only fails on contradictions the
// kernel could not express; which data options a filesystem accepts is
// checked by checkData.
func parseOptions(options []string) (*mountOptions, error) {
	o := &mountOptions{}
	for _, opt := range options {
		if f, ok := flagOptions[opt]; ok {
			if f.set&atimeFlags != 0 {
				// The atime modes exclude one another; the last one named wins.
				o.flags &^= atimeFlags
			}
			o.flags = o.flags&^f.clear | f.set
			o.cleared = o.cleared&^f.set | f.clear
			continue
		}
		if p, ok := propagationOptions[opt]; ok {
			o.propagation = append(o.propagation, p)
			continue
		}
		if a, ok := recursiveAttrOptions[opt]; ok {
			if a.atime {
				o.recAttr.Attr_clr |= unix.MOUNT_ATTR__ATIME
				o.recAttr.Attr_set = o.recAttr.Attr_set&^unix.MOUNT_ATTR__ATIME | a.set
				continue
			}
			o.recAttr.Attr_set = o.recAttr.Attr_set&^a.clear | a.set
			o.recAttr.Attr_clr = o.recAttr.Attr_clr&^a.set | a.clear
			continue
		}
		switch opt {
		case "bind":
			o.bind = true
		case "rbind":
			o.bind, o.recursive = true, true
		case "remount":
			o.remount = true
		case "idmap":
			o.idmap = true
		case "ridmap":
			o.idmap, o.ridmap = true, true
		case "tmpcopyup":
			o.tmpcopyup = true
		case "":
			return nil, fmt.Errorf("empty option")
		default:
			o.data = append(o.data, opt)
		}
	}
	return o, nil
}

// fsDataKeys lists the data options of the filesystems whose option set is
// fixed and small enough to check before mounting; any other filesystem
// (overlay, ext4, nfs, …) gets its data passed through for the kernel to judge.
var fsDataKeys = map[string][]string{
	"tmpfs": {"size", "nr_blocks", "nr_inodes", "mode", "uid", "gid", "huge", "mpol",
		"inode32", "inode64", "noswap", "quota", "usrquota", "grpquota",
		"usrquota_block_hardlimit", "usrquota_inode_hardlimit",
		"grpquota_block_hardlimit", "grpquota_inode_hardlimit", "casefold", "strict_encoding"},
	"proc":   {"hidepid", "gid", "subset", "pidns"},
	"sysfs":  {},
	"mqueue": {},
	"devpts": {"uid", "gid", "mode", "ptmxmode", "newinstance", "max"},
}

// securityDataKeys are the LSM mount options every filesystem accepts.
var securityDataKeys = []string{"context", "fscontext", "defcontext", "rootcontext", "seclabel"}

// checkData rejects a data option the filesystem type is known not to take.
// A bind mount has no filesystem to hand data to and the kernel ignores it;
// tools that share one option list across mounts (runtime-tools does, and
// runc accepts it) put tmpfs options such as mode= and size= on binds, so
// those are ignored there, while words no filesystem here knows still fail.
func checkData(fsType string, o *mountOptions) error {
	for _, d := range o.data {
		if o.bind {
			if !knownDataKey(d) {
				return fmt.Errorf("unknown option %q", d)
			}
			continue
		}
		keys, known := fsDataKeys[fsType]
		if !known {
			continue
		}
		key, _, _ := strings.Cut(d, "=")
		if !slices.Contains(keys, key) && !slices.Contains(securityDataKeys, key) {
			return fmt.Errorf("unknown option %q", d)
		}
	}
	return nil
}

func knownDataKey(d string) bool {
	key, _, _ := strings.Cut(d, "=")
	if slices.Contains(securityDataKeys, key) {
		return true
	}
	for _, keys := range fsDataKeys {
		if slices.Contains(keys, key) {
			return true
		}
	}
	return false
}

// bindAttr turns the mount(2) flags of a bind mount into the set/clear masks
// of mount_setattr. Superblock flags (sync, dirsync, mand, lazytime, iversion,
// silent) have no per-mount form and are ignored for binds, as the kernel does
// on a bind remount.
func (o *mountOptions) bindAttr() unix.MountAttr {
	var a unix.MountAttr
	for _, b := range mountFlagBits {
		if o.flags&b.ms != 0 {
			a.Attr_set |= b.attr
		}
		if o.cleared&b.ms != 0 {
			a.Attr_clr |= b.attr
		}
	}
	if (o.flags|o.cleared)&atimeFlags != 0 {
		a.Attr_clr |= unix.MOUNT_ATTR__ATIME
		switch {
		case o.flags&unix.MS_NOATIME != 0:
			a.Attr_set |= unix.MOUNT_ATTR_NOATIME
		case o.flags&unix.MS_STRICTATIME != 0:
			a.Attr_set |= unix.MOUNT_ATTR_STRICTATIME
		default:
			a.Attr_set |= unix.MOUNT_ATTR_RELATIME
		}
	}
	return a
}

// The flags of one mount (not of its filesystem) that a bind mount's
// options decide, in mount(2)'s terms, and how statfs(2) shows the atime
// mode: MS_NOATIME, MS_RELATIME or neither (strictatime).
const (
	bindPerMountFlags = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOSYMFOLLOW
	atimeState        = unix.MS_NOATIME | unix.MS_RELATIME | unix.MS_NODIRATIME
	// lockedFlags are those the kernel locks on the mounts a user namespace
	// inherits (MNT_LOCK_*); it locks the atime state as well.
	lockedFlags = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
)

// stNoSymfollow is ST_NOSYMFOLLOW of <linux/statfs.h>, which x/sys/unix lacks.
const stNoSymfollow = 0x2000

// mountFlagBits are the per-mount flags as mount(2), statfs(2) and
// mount_setattr(2) name them, but for the atime mode, which is a field of
// its own in mount_setattr (MOUNT_ATTR__ATIME).
var mountFlagBits = []struct {
	ms   uintptr
	st   int64
	attr uint64
}{
	{unix.MS_RDONLY, unix.ST_RDONLY, unix.MOUNT_ATTR_RDONLY},
	{unix.MS_NOSUID, unix.ST_NOSUID, unix.MOUNT_ATTR_NOSUID},
	{unix.MS_NODEV, unix.ST_NODEV, unix.MOUNT_ATTR_NODEV},
	{unix.MS_NOEXEC, unix.ST_NOEXEC, unix.MOUNT_ATTR_NOEXEC},
	{unix.MS_NODIRATIME, unix.ST_NODIRATIME, unix.MOUNT_ATTR_NODIRATIME},
	{unix.MS_NOSYMFOLLOW, stNoSymfollow, unix.MOUNT_ATTR_NOSYMFOLLOW},
}

// statfsFlags returns the per-mount flags statfs(2) reports, as MS_* flags.
func statfsFlags(st int64) uintptr {
	var flags uintptr
	for _, b := range mountFlagBits {
		if st&b.st != 0 {
			flags |= b.ms
		}
	}
	if st&unix.ST_NOATIME != 0 {
		flags |= unix.MS_NOATIME
	}
	if st&unix.ST_RELATIME != 0 {
		flags |= unix.MS_RELATIME
	}
	return flags
}

// namesBindFlags says whether the options name any mount flag (set or
// cleared): only then does a bind mount get flags of its own; otherwise it
// keeps the source's.
func (o *mountOptions) namesBindFlags() bool { return o.flags|o.cleared != 0 }

// bindFlags returns the per-mount flags (bindPerMountFlags and the atime
// state) of a bind mount of a source whose flags are src, as runc 1.5
// makes them:
//   - exactly the flags named: one not named is cleared (rw by default);
//   - the atime state is the source's unless an atime mode or nodiratime is
//     named (then relatime unless noatime or strictatime, as mount(2));
//     naming a cleared atime flag alone ("atime") changes nothing;
//   - in a user namespace the source's locked flags (lockedFlags, atime)
//     cannot be cleared: a request that would clear one it did not name
//     keeps it, and one that names it cleared ("rw" on a read-only source)
//     or names another atime state fails with EPERM.
func (o *mountOptions) bindFlags(src uintptr, userNS bool) (uintptr, error) {
	want := o.flags & bindPerMountFlags
	atime := src & atimeState
	if o.flags&(atimeFlags|unix.MS_NODIRATIME) != 0 {
		switch {
		case o.flags&unix.MS_NOATIME != 0:
			atime = unix.MS_NOATIME
		case o.flags&unix.MS_STRICTATIME != 0:
			atime = 0
		default:
			atime = unix.MS_RELATIME
		}
		atime |= o.flags & unix.MS_NODIRATIME
	}
	want |= atime
	if !userNS {
		return want, nil
	}
	locked := src & lockedFlags
	if want&locked == locked && want&atimeState == src&atimeState {
		return want, nil
	}
	if c := src & o.cleared & (lockedFlags | atimeFlags | unix.MS_NODIRATIME); c != 0 {
		return 0, fmt.Errorf("cannot clear flags %s, locked on the source in a user namespace: %w", flagNames(c), unix.EPERM)
	}
	if req := o.flags & (atimeFlags | unix.MS_NODIRATIME); req != 0 && req != src&atimeState {
		return 0, fmt.Errorf("cannot change the atime flags %s, locked on the source in a user namespace, to %s: %w",
			flagNames(src&atimeState), flagNames(req), unix.EPERM)
	}
	return want&^atimeState | locked | src&atimeState, nil
}

// changeAttr returns the mount_setattr(2) change that turns a mount with
// the per-mount flags from (see bindFlags) into one with to.
func changeAttr(from, to uintptr) unix.MountAttr {
	var a unix.MountAttr
	for _, b := range mountFlagBits {
		switch {
		case to&b.ms != 0 && from&b.ms == 0:
			a.Attr_set |= b.attr
		case to&b.ms == 0 && from&b.ms != 0:
			a.Attr_clr |= b.attr
		}
	}
	// The atime mode is one field: it is changed whole.
	const mode = unix.MS_NOATIME | unix.MS_RELATIME
	if to&mode != from&mode {
		a.Attr_clr |= unix.MOUNT_ATTR__ATIME
		switch {
		case to&unix.MS_NOATIME != 0:
			a.Attr_set |= unix.MOUNT_ATTR_NOATIME
		case to&unix.MS_RELATIME != 0:
			a.Attr_set |= unix.MOUNT_ATTR_RELATIME
		default:
			a.Attr_set |= unix.MOUNT_ATTR_STRICTATIME
		}
	}
	return a
}

// flagNames names MS_* flags as mount options, for errors.
func flagNames(flags uintptr) string {
	var names []string
	for _, n := range []struct {
		flag uintptr
		name string
	}{
		{unix.MS_RDONLY, "ro"}, {unix.MS_NOSUID, "nosuid"}, {unix.MS_NODEV, "nodev"}, {unix.MS_NOEXEC, "noexec"},
		{unix.MS_NOSYMFOLLOW, "nosymfollow"}, {unix.MS_NOATIME, "noatime"}, {unix.MS_RELATIME, "relatime"},
		{unix.MS_STRICTATIME, "strictatime"}, {unix.MS_NODIRATIME, "nodiratime"},
	} {
		if flags&n.flag != 0 {
			names = append(names, n.name)
		}
	}
	if len(names) == 0 {
		return "strictatime"
	}
	return strings.Join(names, ",")
}

// extensionOptions are the options rt itself interprets rather than mount(2)
// or mount_setattr(2); parseOptions handles each of them.
var extensionOptions = []string{"bind", "rbind", "remount", "idmap", "ridmap", "tmpcopyup"}

// KnownOptions lists every mount option parseOptions recognises, sorted, for
// `rt features`. Filesystem data options (size=, mode=, …) are not included:
// the runtime-spec's features list leaves them out.
func KnownOptions() []string {
	var out []string
	for o := range flagOptions {
		out = append(out, o)
	}
	for o := range propagationOptions {
		out = append(out, o)
	}
	for o := range recursiveAttrOptions {
		out = append(out, o)
	}
	out = append(out, extensionOptions...)
	slices.Sort(out)
	return out
}
