// Package systemd places a container in a transient systemd scope, created
// over D-Bus, so that systemd knows the cgroup is delegated and leaves it
// alone; the cgroup files are then driven by the fs drivers as usual.
package systemd

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/fs2"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

// Scope is a parsed "slice:prefix:name" cgroupsPath.
type Scope struct {
	Slice string // e.g. "system.slice"
	Unit  string // e.g. "rt-<id>.scope"
}

// ParsePath parses "slice:prefix:name"; "" means "system.slice:rt:<id>",
// and an empty slice means system.slice.
func ParsePath(path, id string) (Scope, error) {
	if path == "" {
		path = "system.slice:rt:" + id
	}
	parts := strings.Split(path, ":")
	if len(parts) != 3 {
		return Scope{}, fmt.Errorf("linux.cgroupsPath: %q is not \"slice:prefix:name\" as systemd cgroups need", path)
	}
	slice, prefix, name := parts[0], parts[1], parts[2]
	if strings.Contains(path, "/") {
		return Scope{}, fmt.Errorf("linux.cgroupsPath: %q: systemd unit names cannot contain \"/\"", path)
	}
	if strings.IndexByte(path, 0) >= 0 {
		return Scope{}, fmt.Errorf("linux.cgroupsPath: contains a NUL byte")
	}
	if slice == "" {
		slice = "system.slice"
	}
	if _, err := ExpandSlice(slice); err != nil {
		return Scope{}, fmt.Errorf("linux.cgroupsPath: %w", err)
	}
	if name == "" {
		return Scope{}, fmt.Errorf("linux.cgroupsPath: %q has an empty name", path)
	}
	if strings.HasSuffix(name, ".slice") {
		return Scope{}, fmt.Errorf("linux.cgroupsPath: %q: a slice as the container's unit is not supported", name)
	}
	unit := name + ".scope"
	if prefix != "" {
		unit = prefix + "-" + unit
	}
	return Scope{Slice: slice, Unit: unit}, nil
}

// ExpandSlice turns a slice name into its cgroup path: each "-" opens a
// nested slice, so "a-b.slice" is "/a.slice/a-b.slice"; "-.slice" is "/".
func ExpandSlice(slice string) (string, error) {
	base, ok := strings.CutSuffix(slice, ".slice")
	if !ok || strings.Contains(slice, "/") {
		return "", fmt.Errorf("%q is not a slice name", slice)
	}
	if base == "-" {
		return "/", nil
	}
	if base == "" || strings.HasPrefix(base, "-") || strings.HasSuffix(base, "-") || strings.Contains(base, "--") {
		return "", fmt.Errorf("%q is not a valid slice name", slice)
	}
	var path, prefix strings.Builder
	for i, part := range strings.Split(base, "-") {
		if i > 0 {
			prefix.WriteString("-")
		}
		prefix.WriteString(part)
		path.WriteString("/" + prefix.String() + ".slice")
	}
	return path.String(), nil
}

// CgroupPath is the scope's absolute path in every hierarchy.
func (s Scope) CgroupPath() string {
	p, _ := ExpandSlice(s.Slice)
	return strings.TrimSuffix(p, "/") + "/" + s.Unit
}

// Conn is the part of the systemd D-Bus API used here (a fake in tests).
type Conn interface {
	StartTransientUnitContext(ctx context.Context, name, mode string, props []dbus.Property, ch chan<- string) (int, error)
	StopUnitContext(ctx context.Context, name, mode string, ch chan<- string) (int, error)
	SetUnitPropertiesContext(ctx context.Context, name string, runtime bool, props ...dbus.Property) error
	Close()
}

// Connect reaches the system instance of systemd, or the user's when
// rootless.
func Connect(rootless bool) (Conn, error) {
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		return nil, errors.New("systemd cgroups: systemd is not running on this host (no /run/systemd/system)")
	}
	ctx := context.Background()
	var c *dbus.Conn
	var err error
	if rootless {
		c, err = dbus.NewUserConnectionContext(ctx)
	} else {
		c, err = dbus.NewWithContext(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("systemd cgroups: connect to systemd: %w", err)
	}
	return c, nil
}

// fs is the cgroup driver working below the scope.
type fs = cgfs.Manager

// Manager is a container's scope plus the fs driver for its cgroups.
type Manager struct {
	fs
	scope  Scope
	conn   Conn
	legacy bool // v1 controllers: systemd's v1 property names
}

// New wraps inner (whose cgroups path must be scope.CgroupPath()).
func New(scope Scope, conn Conn, inner cgfs.Manager, legacy bool) *Manager {
	return &Manager{fs: inner, scope: scope, conn: conn, legacy: legacy}
}

const jobTimeout = 30 * time.Second

func wait(ch <-chan string, what string) error {
	select {
	case res := <-ch:
		if res != "done" {
			return fmt.Errorf("%s: systemd job %s", what, res)
		}
		return nil
	case <-time.After(jobTimeout):
		return fmt.Errorf("%s: systemd did not answer in %s", what, jobTimeout)
	}
}

// Apply starts the transient scope with pid in it, delegated to rt, then
// lets the fs driver join the hierarchies systemd does not manage. A
// scope that already exists is joined.
func (m *Manager) Apply(pid int) error {
	props := []dbus.Property{
		dbus.PropDescription("rt container " + m.scope.Unit),
		dbus.PropSlice(m.scope.Slice),
		newProp("Delegate", true),
		newProp("DefaultDependencies", false),
		newProp("MemoryAccounting", true),
		newProp("CPUAccounting", true),
		newProp("TasksAccounting", true),
	}
	if m.legacy {
		props = append(props, newProp("BlockIOAccounting", true))
	} else {
		props = append(props, newProp("IOAccounting", true))
	}
	if pid > 0 {
		props = append(props, dbus.PropPids(uint32(pid)))
	}
	ch := make(chan string, 1)
	_, err := m.conn.StartTransientUnitContext(context.Background(), m.scope.Unit, "replace", props, ch)
	if err == nil {
		err = wait(ch, "start "+m.scope.Unit)
	} else if isUnitExists(err) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("start scope %s: %w", m.scope.Unit, err)
	}
	return m.fs.Apply(pid)
}

func isUnitExists(err error) bool {
	var de godbus.Error
	return errors.As(err, &de) && de.Name == "org.freedesktop.systemd1.UnitExists"
}

func newProp(name string, v any) dbus.Property {
	return dbus.Property{Name: name, Value: godbus.MakeVariant(v)}
}

// Set tells systemd the limits it has properties for (so that a daemon
// reload does not undo them), then writes everything through the files.
func (m *Manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if props := Properties(r, m.legacy); len(props) > 0 {
		if err := m.conn.SetUnitPropertiesContext(context.Background(), m.scope.Unit, true, props...); err != nil {
			return fmt.Errorf("set properties of %s: %w", m.scope.Unit, err)
		}
	}
	return m.fs.Set(r)
}

// Properties translates the resources systemd has unit properties for.
func Properties(r *specs.LinuxResources, legacy bool) []dbus.Property {
	var props []dbus.Property
	if mem := r.Memory; mem != nil && mem.Limit != nil && *mem.Limit != 0 {
		v := uint64(math.MaxUint64)
		if *mem.Limit > 0 {
			v = uint64(*mem.Limit)
		}
		if legacy {
			props = append(props, newProp("MemoryLimit", v))
		} else {
			props = append(props, newProp("MemoryMax", v))
		}
	}
	if c := r.CPU; c != nil {
		if c.Shares != nil && *c.Shares != 0 {
			if legacy {
				props = append(props, newProp("CPUShares", *c.Shares))
			} else {
				props = append(props, newProp("CPUWeight", fs2.CPUSharesToWeight(*c.Shares)))
			}
		}
		if c.Quota != nil && *c.Quota != 0 {
			period := uint64(100000)
			if c.Period != nil && *c.Period != 0 {
				period = *c.Period
			}
			perSec := uint64(math.MaxUint64)
			if *c.Quota > 0 {
				// systemd counts in whole percent of a CPU per second:
				// round up so the limit is never below the request.
				perSec = uint64(*c.Quota) * 1000000 / period
				if perSec%10000 != 0 {
					perSec = (perSec/10000 + 1) * 10000
				}
			}
			props = append(props, newProp("CPUQuotaPerSecUSec", perSec))
		}
	}
	if r.Pids != nil && r.Pids.Limit != nil {
		v := uint64(math.MaxUint64)
		switch {
		case *r.Pids.Limit > 0:
			v = uint64(*r.Pids.Limit)
		case *r.Pids.Limit == 0:
			// systemd refuses TasksMax=0; the fs driver writes pids.max 0
			// after this, and 1 is what systemd would restore.
			v = 1
		}
		props = append(props, newProp("TasksMax", v))
	}
	return props
}

// Destroy stops the scope (systemd removes its cgroup) and removes what
// is left in the hierarchies systemd does not manage.
func (m *Manager) Destroy() error {
	ch := make(chan string, 1)
	var errs []error
	if _, err := m.conn.StopUnitContext(context.Background(), m.scope.Unit, "replace", ch); err == nil {
		if err := wait(ch, "stop "+m.scope.Unit); err != nil {
			errs = append(errs, err)
		}
	} else if !isNoSuchUnit(err) {
		errs = append(errs, fmt.Errorf("stop scope %s: %w", m.scope.Unit, err))
	}
	errs = append(errs, m.fs.Destroy())
	m.conn.Close()
	return errors.Join(errs...)
}

func isNoSuchUnit(err error) bool {
	var de godbus.Error
	return errors.As(err, &de) && de.Name == "org.freedesktop.systemd1.NoSuchUnit"
}
