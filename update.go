package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli"
)

var updateCommand = cli.Command{
	Name:      "update",
	Usage:     "change the resource limits of a container",
	ArgsUsage: "<container-id>",
	Description: `Update changes the cgroup limits of a created, running or paused container.
Give new values as flags, or as a JSON file in the form of config.json's
"linux.resources" with --resources ("-" reads it from stdin); flags apply on
top of the file, and what neither sets stays as it is. Sizes are bytes, or
a number with a unit k, m, g, t or p (powers of 1024). For example:

    rt update --memory 512m --pids-limit 200 web1`,
	Flags: []cli.Flag{
		cli.StringFlag{Name: "resources, r", Value: "", Usage: "JSON file with the linux.resources to apply, or - for stdin"},
		cli.IntFlag{Name: "blkio-weight", Usage: "block I/O weight, 10 to 1000 (0: unchanged)"},
		cli.StringFlag{Name: "cpu-period", Usage: "CFS period in microseconds: the window --cpu-quota counts in"},
		cli.StringFlag{Name: "cpu-quota", Usage: "CPU time in microseconds the container may use per --cpu-period; -1: no limit"},
		cli.StringFlag{Name: "cpu-burst", Usage: "CPU time in microseconds the container may save up and spend beyond its quota"},
		cli.StringFlag{Name: "cpu-share", Usage: "CPU weight relative to other cgroups (cpu.shares)"},
		cli.StringFlag{Name: "cpu-rt-period", Usage: "real-time scheduling period in microseconds"},
		cli.StringFlag{Name: "cpu-rt-runtime", Usage: "real-time CPU time in microseconds per --cpu-rt-period"},
		cli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs the container may run on, e.g. 0-3,6"},
		cli.StringFlag{Name: "cpuset-mems", Usage: "memory nodes the container may allocate from, e.g. 0"},
		cli.StringFlag{Name: "kernel-memory", Usage: "ignored, with a warning: kernel memory limits are gone from recent kernels"},
		cli.StringFlag{Name: "kernel-memory-tcp", Usage: "ignored, with a warning, as --kernel-memory"},
		cli.StringFlag{Name: "memory", Usage: "memory limit (a size); -1: no limit"},
		cli.StringFlag{Name: "cpu-idle", Usage: "1: the container's tasks run at SCHED_IDLE priority (cpu.idle); 0: normally"},
		cli.StringFlag{Name: "memory-reservation", Usage: "soft memory limit (a size) the kernel reclaims towards when memory is short"},
		cli.StringFlag{Name: "memory-swap", Usage: "limit of memory plus swap (a size); -1: unlimited swap"},
		cli.IntFlag{Name: "pids-limit", Usage: "most processes and threads the container may have"},
		cli.StringFlag{Name: "l3-cache-schema", Usage: "Intel RDT L3 cache allocation schema (refused: rt has no Intel RDT support)"},
		cli.StringFlag{Name: "mem-bw-schema", Usage: "Intel RDT memory bandwidth schema (refused: rt has no Intel RDT support)"},
	},
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, exactArgs); err != nil {
			return err
		}
		r, err := updateResources(ctx)
		if err != nil {
			return err
		}
		c, err := loadContainer(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		return c.Update(r)
	},
}

// updateResources builds the requested change: the --resources JSON, then
// each flag given on top of it. Fields left nil are not changed.
func updateResources(ctx *cli.Context) (*specs.LinuxResources, error) {
	r := &specs.LinuxResources{}
	if in := ctx.String("resources"); in != "" {
		var src io.Reader = os.Stdin
		if in != "-" {
			f, err := os.Open(in)
			if err != nil {
				return nil, fmt.Errorf("--resources: %w", err)
			}
			defer f.Close()
			src = f
		}
		var err error
		if r, err = decodeResources(src); err != nil {
			return nil, fmt.Errorf("--resources %s: %w", in, err)
		}
	}
	if r.Memory == nil {
		r.Memory = &specs.LinuxMemory{}
	}
	if r.CPU == nil {
		r.CPU = &specs.LinuxCPU{}
	}
	for _, f := range []struct {
		flag string
		dst  **uint64
	}{
		{"cpu-period", &r.CPU.Period},
		{"cpu-burst", &r.CPU.Burst},
		{"cpu-share", &r.CPU.Shares},
		{"cpu-rt-period", &r.CPU.RealtimePeriod},
	} {
		if v := ctx.String(f.flag); v != "" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("invalid value for %s: %w", f.flag, err)
			}
			*f.dst = &n
		}
	}
	for _, f := range []struct {
		flag string
		dst  **int64
	}{
		{"cpu-quota", &r.CPU.Quota},
		{"cpu-rt-runtime", &r.CPU.RealtimeRuntime},
		{"cpu-idle", &r.CPU.Idle},
	} {
		if v := ctx.String(f.flag); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("invalid value for %s: %w", f.flag, err)
			}
			*f.dst = &n
		}
	}
	for _, f := range []struct {
		flag string
		dst  **int64
	}{
		{"memory", &r.Memory.Limit},
		{"memory-swap", &r.Memory.Swap},
		{"memory-reservation", &r.Memory.Reservation},
	} {
		if v := ctx.String(f.flag); v != "" {
			n, err := parseMemory(v)
			if err != nil {
				return nil, fmt.Errorf("invalid value for %s: %w", f.flag, err)
			}
			*f.dst = &n
		}
	}
	if v := ctx.String("cpuset-cpus"); v != "" {
		r.CPU.Cpus = v
	}
	if v := ctx.String("cpuset-mems"); v != "" {
		r.CPU.Mems = v
	}
	if ctx.IsSet("blkio-weight") {
		// 0 leaves the weight as it is, as with runc.
		w := ctx.Int("blkio-weight")
		if w != 0 && (w < 10 || w > 1000) {
			return nil, fmt.Errorf("invalid value for blkio-weight: %d is not in [10, 1000] (or 0: unchanged)", w)
		}
		if r.BlockIO == nil {
			r.BlockIO = &specs.LinuxBlockIO{}
		}
		v := uint16(w)
		r.BlockIO.Weight = &v
	}
	if ctx.IsSet("pids-limit") {
		n := int64(ctx.Int("pids-limit"))
		r.Pids = &specs.LinuxPids{Limit: &n}
	}
	// Kernel memory limits are gone from recent kernels; runc 1.1 accepts
	// the flags and ignores them.
	for _, f := range []string{"kernel-memory", "kernel-memory-tcp"} {
		if ctx.String(f) != "" {
			logrus.Warnf("Setting --%s is ignored and will be removed", f)
		}
	}
	if ctx.String("l3-cache-schema") != "" {
		return nil, errors.New("--l3-cache-schema: Intel RDT/CAT is not supported by rt")
	}
	if ctx.String("mem-bw-schema") != "" {
		return nil, errors.New("--mem-bw-schema: Intel RDT/MBA is not supported by rt")
	}
	return r, nil
}

// decodeResources reads the linux.resources JSON of --resources.
func decodeResources(src io.Reader) (*specs.LinuxResources, error) {
	r := &specs.LinuxResources{}
	dec := json.NewDecoder(src)
	dec.DisallowUnknownFields()
	if err := dec.Decode(r); err != nil {
		return nil, fmt.Errorf("parse linux.resources JSON: %w", err)
	}
	return r, nil
}

// parseMemory reads a byte count with an optional binary unit, as docker
// and runc accept it: "1024", "64m", "1.5GiB", "512 KB"; "-1" is unlimited.
func parseMemory(s string) (int64, error) {
	if s == "-1" {
		return -1, nil
	}
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "b")
	t = strings.TrimSuffix(t, "i")
	mult := int64(1)
	if n := len(t); n > 0 {
		if i := strings.IndexByte("kmgtp", t[n-1]); i >= 0 {
			mult = int64(1) << (10 * (i + 1))
			t = strings.TrimSpace(t[:n-1])
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || strings.Trim(t, "0123456789.") != "" {
		return 0, fmt.Errorf("%q is not a size (bytes, or a number with k, m, g, t or p)", s)
	}
	// 2^63 and above do not fit: converted, they came out negative.
	if v := f * float64(mult); v >= 1<<63 {
		return 0, fmt.Errorf("%q is too large a size", s)
	}
	return int64(f * float64(mult)), nil
}
