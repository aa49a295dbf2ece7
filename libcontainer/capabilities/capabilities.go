// Package capabilities turns process.capabilities of a runtime-spec config
// into the five kernel capability sets and applies them to the calling
// thread of the container's init.
//
// Capabilities are per thread: every function that changes them acts on the
// calling OS thread only, so init must hold runtime.LockOSThread from its
// start until execve.
package capabilities

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/sys/capability"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// mask is a capability set as the kernel sees it: bit n is capability n.
type mask uint64

func (m mask) has(c int) bool { return m&(1<<uint(c)) != 0 }

// byName maps "CAP_CHOWN" style names to capability numbers. It lists every
// capability any kernel is known to have, not only those of this kernel.
var byName = func() map[string]int {
	m := make(map[string]int)
	for _, c := range capability.ListKnown() {
		m["CAP_"+strings.ToUpper(c.String())] = int(c)
	}
	return m
}()

// Number returns the number of a capability named as in the spec ("CAP_CHOWN"),
// whether or not the running kernel knows it.
func Number(name string) (int, bool) {
	n, ok := byName[name]
	return n, ok
}

// Known lists the spec names of every capability rt recognises, sorted,
// including those this kernel lacks (for `rt features`).
func Known() []string {
	out := make([]string, 0, len(byName))
	for name := range byName {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// Name returns the spec name ("CAP_NET_RAW") of capability number c.
func Name(c int) string {
	for name, n := range byName {
		if n == c {
			return name
		}
	}
	return "CAP_" + strconv.Itoa(c)
}

// Set holds the capability sets init applies. The zero value (or a nil
// *Set) means process.capabilities was absent: nothing is changed.
type Set struct {
	Bounding, Effective, Inheritable, Permitted, Ambient uint64
}

type field struct {
	name  string
	names []string
}

func fields(c *specs.LinuxCapabilities) []field {
	return []field{
		{"bounding", c.Bounding},
		{"effective", c.Effective},
		{"inheritable", c.Inheritable},
		{"permitted", c.Permitted},
		{"ambient", c.Ambient},
	}
}

// LastCap returns the highest capability number the running kernel knows:
// the one beyond which PR_CAPBSET_READ says EINVAL. Asked of prctl rather
// than read from /proc/sys/kernel/cap_last_cap, which in the init takes a
// private procfs instance of its own (0.2 ms, on every start) and which a
// bundle could mask.
func LastCap() (int, error) {
	known := func(c int) (bool, error) {
		_, err := kernel.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
		if errors.Is(err, unix.EINVAL) {
			return false, nil
		}
		return err == nil, err
	}
	// CAP_CHECKPOINT_RESTORE (40, Linux 5.9) is the last one today: two
	// calls on most kernels, up or down from there on others.
	c := int(capability.CAP_CHECKPOINT_RESTORE)
	ok, err := known(c)
	for ; err == nil && ok && c < 63; c++ {
		var next bool
		if next, err = known(c + 1); !next {
			break
		}
	}
	for ; err == nil && !ok && c > 0; c-- {
		if ok, err = known(c - 1); ok {
			c--
			break
		}
	}
	if err != nil || !ok {
		return 0, fmt.Errorf("find the highest capability of this kernel: prctl(PR_CAPBSET_READ): %v", err)
	}
	return c, nil
}

// New computes the sets to apply. Call it in init before any capability
// changes. A capability that is unknown, that this kernel lacks, or that the
// calling thread cannot grant (outside its bounding or permitted set, say
// CAP_SYS_RESOURCE on a host that withholds it) is left out with one warning
// naming them all, as runc does: the runtime-spec asks for a warning, not a
// failure. Which set lost which capability, and why, is logged at debug
// level. A nil c gives a nil *Set.
func New(c *specs.LinuxCapabilities) (*Set, error) {
	if c == nil {
		return nil, nil
	}
	last, err := LastCap()
	if err != nil {
		return nil, err
	}
	cur, err := current()
	if err != nil {
		return nil, err
	}
	ignored := map[string]bool{}
	sets := make(map[string]mask)
	for _, f := range fields(c) {
		var m mask
		for i, name := range f.names {
			n, ok := byName[name]
			switch {
			case !ok:
				logrus.Debugf("process.capabilities.%s[%d]: %q is not a capability", f.name, i, name)
				ignored[name] = true
				continue
			case n > last:
				logrus.Debugf("process.capabilities.%s[%d]: %s is not supported by this kernel (cap_last_cap is %d)", f.name, i, name, last)
				ignored[name] = true
				continue
			}
			m |= 1 << uint(n)
		}
		sets[f.name] = m
	}

	// What the kernel will accept: the bounding set can only shrink,
	// permitted only shrink, effective stays within permitted, inheritable
	// within the (new) bounding set.
	unavailable := func(want, allowed mask, set, why string) mask {
		for c := 0; c < 64; c++ {
			if want.has(c) && !allowed.has(c) {
				logrus.Debugf("process.capabilities.%s: %s cannot be granted: not in %s", set, Name(c), why)
				ignored[Name(c)] = true
			}
		}
		return want & allowed
	}
	bounding := unavailable(sets["bounding"], cur.bounding, "bounding", "the runtime's bounding set")
	permitted := unavailable(sets["permitted"], cur.permitted, "permitted", "the runtime's permitted set")
	effective := unavailable(sets["effective"], permitted, "effective", "the permitted set")
	// Without CAP_SETPCAP in effect (as after the change of user) capset
	// also wants inheritable within the old inheritable and permitted sets.
	allowedInh := (bounding | cur.inheritable) & (cur.inheritable | cur.permitted)
	inheritable := unavailable(sets["inheritable"], allowedInh, "inheritable", "the bounding and the runtime's permitted sets")
	if len(ignored) > 0 {
		names := make([]string, 0, len(ignored))
		for n := range ignored {
			names = append(names, n)
		}
		slices.Sort(names)
		logrus.Warnf("ignoring unknown or unavailable capabilities: %v", names)
	}
	// Ambient is left as asked: Apply raises what the kernel allows and
	// warns about the rest.
	return &Set{
		Bounding: uint64(bounding), Permitted: uint64(permitted), Effective: uint64(effective),
		Inheritable: uint64(inheritable), Ambient: uint64(sets["ambient"]),
	}, nil
}

type threadCaps struct {
	bounding, effective, inheritable, permitted mask
}

// current reads the calling thread's capability sets.
func current() (threadCaps, error) {
	var t threadCaps
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := kernel.Capget(&hdr, &data); err != nil {
		return t, fmt.Errorf("capget: %w", err)
	}
	t.effective = mask(data[0].Effective) | mask(data[1].Effective)<<32
	t.permitted = mask(data[0].Permitted) | mask(data[1].Permitted)<<32
	t.inheritable = mask(data[0].Inheritable) | mask(data[1].Inheritable)<<32
	last, err := LastCap()
	if err != nil {
		return t, err
	}
	for c := 0; c <= last; c++ {
		in, err := kernel.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
		if err != nil {
			return t, fmt.Errorf("prctl(PR_CAPBSET_READ, %s): %w", Name(c), err)
		}
		if in == 1 {
			t.bounding |= 1 << uint(c)
		}
	}
	return t, nil
}

// DropBoundingSet removes every capability not in s.Bounding from the
// calling thread's bounding set. It needs CAP_SETPCAP in the effective set,
// so it must run before init changes to the container's user.
func (s *Set) DropBoundingSet() error {
	if s == nil {
		return nil
	}
	drops, err := s.BoundingDrops()
	if err != nil {
		return err
	}
	for _, c := range drops {
		if err := kernel.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			if errors.Is(err, unix.EPERM) {
				return fmt.Errorf("drop %s from the bounding set: %w (CAP_SETPCAP is not in the effective set)", Name(c), err)
			}
			return fmt.Errorf("drop %s from the bounding set: %w", Name(c), err)
		}
	}
	return nil
}

// BoundingDrops lists the capabilities of this kernel that are not in
// s.Bounding: those DropBoundingSet drops.
func (s *Set) BoundingDrops() ([]int, error) {
	last, err := LastCap()
	if err != nil {
		return nil, err
	}
	var drops []int
	for c := 0; c <= last; c++ {
		if !mask(s.Bounding).has(c) {
			drops = append(drops, c)
		}
	}
	return drops, nil
}

// secbitNoCapAmbientRaise is SECBIT_NO_CAP_AMBIENT_RAISE (bit 6 of the
// securebits, linux/securebits.h), which x/sys/unix lacks.
const secbitNoCapAmbientRaise = 1 << 6

// RaisableAmbient lists the capabilities of s.Ambient the kernel will raise
// once s is applied (those in both the permitted and inheritable sets,
// unless securebits forbid raising any), and warns about the others with
// Apply's words: for a process that applies s with raw system calls.
func (s *Set) RaisableAmbient(securebits int) []int {
	var raise []int
	for c := 0; c < 64; c++ {
		if !mask(s.Ambient).has(c) {
			continue
		}
		if securebits&secbitNoCapAmbientRaise != 0 || !mask(s.Permitted&s.Inheritable).has(c) {
			logrus.Warnf("can't raise ambient capability %s: %v", Name(c), unix.EPERM)
			s.Ambient &^= 1 << uint(c)
			continue
		}
		raise = append(raise, c)
	}
	return raise
}

// Apply sets the effective, permitted and inheritable sets of the calling
// thread (capset) and then its ambient set; s.Ambient is left holding what
// the kernel raised. Run it after the change of
// user, which clears the effective set even with PR_SET_KEEPCAPS.
func (s *Set) Apply() error {
	if s == nil {
		return nil
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{
		{Effective: uint32(s.Effective), Permitted: uint32(s.Permitted), Inheritable: uint32(s.Inheritable)},
		{Effective: uint32(s.Effective >> 32), Permitted: uint32(s.Permitted >> 32), Inheritable: uint32(s.Inheritable >> 32)},
	}
	if err := kernel.Capset(&hdr, &data); err != nil {
		return fmt.Errorf("capset effective=%#x permitted=%#x inheritable=%#x: %w", s.Effective, s.Permitted, s.Inheritable, err)
	}
	// Ambient capabilities arrived in Linux 4.3; older kernels say EINVAL,
	// which only matters when some were asked for.
	if err := kernel.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		if !errors.Is(err, unix.EINVAL) || s.Ambient != 0 {
			return fmt.Errorf("clear the ambient set: %w", err)
		}
	}
	for c := 0; c < 64; c++ {
		if !mask(s.Ambient).has(c) {
			continue
		}
		// The kernel raises only what is both permitted and inheritable;
		// runc only warns about the rest, and so do we.
		if err := kernel.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(c), 0, 0); err != nil {
			logrus.Warnf("can't raise ambient capability %s: %v", Name(c), err)
			s.Ambient &^= 1 << uint(c)
		}
	}
	return nil
}
