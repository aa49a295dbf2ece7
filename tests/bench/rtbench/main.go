// Command rtbench is the measuring half of `make bench`: it runs OCI
// runtimes side by side, interleaved sample by sample, and prints their
// figures with rt's ratio to each. tests/bench/run.sh starts it once, inside
// a private mount and cgroup namespace whose cgroupfs is rooted at the
// benchmark's own cgroup (see tests/bench/README.md for the method).
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

type runtimeFlags []string

func (f *runtimeFlags) String() string     { return strings.Join(*f, " ") }
func (f *runtimeFlags) Set(v string) error { *f = append(*f, v); return nil }

// plan is how much to measure.
type plan struct {
	samples         int   // per latency figure and runtime
	seqBursts       int   // sequential lifecycles: bursts ...
	seqBurst        int   // ... of this many
	parBursts       int   // parallel lifecycles: bursts ...
	parBurst        int   // ... of this many, per parallelism
	memGranularity  int64 // bisection stops at this width
	scalingLevels   []int
	scalingSamples  int
	sections        map[string]bool
	throughputModes map[resources]bool
}

func main() {
	var rtFlags runtimeFlags
	flag.Var(&rtFlags, "runtime", "NAME=BINARY[,GLOBAL-FLAG...]; repeat, rt first")
	template := flag.String("template", "", "bundle written by mkbundle.sh: config.json template and rootfs")
	work := flag.String("work", "", "scratch directory on a tmpfs: state roots, bundles")
	samples := flag.Int("n", 0, "samples per latency figure and runtime (default 40, quick 10)")
	quick := flag.Bool("quick", false, "fewer samples, scaling up to 100 containers")
	sections := flag.String("sections", "cgroups,nocgroups,throughput,memory,scaling", "what to measure")
	out := flag.String("out", "", "write every sample here as JSON")
	flag.Parse()
	if len(rtFlags) == 0 || *template == "" || *work == "" {
		fmt.Fprintln(os.Stderr, "usage: rtbench -runtime rt=PATH [-runtime NAME=PATH,FLAGS...]... -template DIR -work DIR")
		os.Exit(2)
	}
	p := plan{
		samples: 40, seqBursts: 4, seqBurst: 25, parBursts: 2, parBurst: 48,
		memGranularity: 16 << 10, scalingLevels: []int{1, 100, 1000}, scalingSamples: 10,
		sections: map[string]bool{}, throughputModes: map[resources]bool{withLimits: true, noResources: true},
	}
	if *quick {
		p = plan{
			samples: 10, seqBursts: 2, seqBurst: 10, parBursts: 1, parBurst: 16,
			memGranularity: 64 << 10, scalingLevels: []int{1, 100}, scalingSamples: 5,
			sections: map[string]bool{}, throughputModes: map[resources]bool{withLimits: true},
		}
	}
	if *samples > 0 {
		p.samples = *samples
	}
	for _, s := range strings.Split(*sections, ",") {
		p.sections[s] = true
	}
	if err := run(rtFlags, *template, *work, *out, p); err != nil {
		fmt.Fprintf(os.Stderr, "rtbench: %v\n", err)
		os.Exit(1)
	}
}

func run(rtFlags []string, template, work, out string, p plan) error {
	var rcs []*runtimeCfg
	for _, f := range rtFlags {
		name, spec, ok := strings.Cut(f, "=")
		if !ok {
			return fmt.Errorf("-runtime %q: want NAME=BINARY[,FLAG...]", f)
		}
		parts := strings.Split(spec, ",")
		rc := &runtimeCfg{name: name, bin: parts[0], global: parts[1:], root: filepath.Join(work, "state", name), live: map[string]bool{}}
		for _, g := range rc.global {
			if g == "--cgroup-manager=disabled" {
				rc.noCgroups = true
			}
		}
		if err := os.MkdirAll(rc.root, 0o700); err != nil {
			return err
		}
		rcs = append(rcs, rc)
	}
	if rcs[0].name != "rt" {
		return fmt.Errorf("the first -runtime must be rt")
	}
	if _, err := os.Stat("/sys/fs/cgroup/unified"); err == nil {
		fmt.Fprintln(os.Stderr, "rtbench: warning: /sys/fs/cgroup/unified is visible; crun refuses hybrid hosts")
	}
	r, err := newReaper()
	if err != nil {
		return err
	}
	b, err := loadBundles(template, filepath.Join(work, "bundles"))
	if err != nil {
		return err
	}
	tmp := filepath.Join(work, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return err
	}
	bn := &bench{r: r, b: b, tmp: tmp}
	if bn.ts, err = listenTaskstats(); err != nil {
		fmt.Fprintf(os.Stderr, "rtbench: no taskstats (%v): no peak RSS figures\n", err)
		bn.ts = nil
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		<-sig
		fmt.Fprintln(os.Stderr, "rtbench: interrupted; cleaning up")
		bn.stopped.Store(true)
	}()

	for _, rc := range rcs {
		v, err := bn.run(rc, "--version")
		if err != nil {
			rc.version = "? (" + err.Error() + ")"
		} else {
			rc.version = strings.Join(strings.Fields(strings.SplitN(string(v.stdout), "\n", 2)[0]), " ")
		}
	}
	w := os.Stdout
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Fprintf(w, "rtbench %s: kernel %s, %d CPUs, load %s\n", time.Now().UTC().Format(time.RFC3339),
		strings.TrimSpace(string(kernel)), runtime.NumCPU(), loadavg())
	for _, rc := range rcs {
		fmt.Fprintf(w, "  %-11s %s %s (%s)\n", rc.name, rc.bin, strings.Join(rc.global, " "), rc.version)
	}
	withCG := func(all []*runtimeCfg) []*runtimeCfg {
		var o []*runtimeCfg
		for _, rc := range all {
			if !rc.noCgroups {
				o = append(o, rc)
			}
		}
		return o
	}

	stores := map[string]*store{}
	t0 := time.Now()
	comparisons := []struct {
		section, title string
		res            resources
		rcs            []*runtimeCfg
	}{
		{"cgroups", "A. with cgroups: every runtime makes the container's cgroups (crun --cgroup-manager=cgroupfs);\n" +
			"   bundle with linux.resources: devices deny-all, memory 256 MiB, pids 1024, cpu shares 1024",
			withLimits, withCG(rcs)},
		{"nocgroups", "B. no linux.resources in the bundle: rt, runc and crun (cgroupfs) still make cgroups;\n" +
			"   crun-nocg is crun --cgroup-manager=disabled (no cgroup work at all)",
			noResources, rcs},
	}
	for _, c := range comparisons {
		if !p.sections[c.section] || bn.stopped.Load() {
			continue
		}
		s := newStore()
		stores[c.section] = s
		bn.data = s
		start := time.Now()
		bn.latency(c.rcs, c.res, p.samples)
		if p.sections["throughput"] && p.throughputModes[c.res] {
			bn.throughput(c.rcs, c.res, "tp seq", 1, p.seqBurst, p.seqBursts)
			bn.throughput(c.rcs, c.res, "tp par2", 2, p.parBurst, p.parBursts)
			bn.throughput(c.rcs, c.res, "tp par8", 8, p.parBurst, p.parBursts)
		}
		fmt.Fprintf(w, "\n%s\n   %d samples per latency figure, runtimes interleaved sample by sample; %s; load %s\n",
			c.title, p.samples, time.Since(start).Round(time.Second), loadavg())
		table(w, s, c.rcs, latencyRows(p))
		printFailures(w, c.rcs)
	}
	if p.sections["memory"] && !bn.stopped.Load() {
		s := newStore()
		stores["memory"] = s
		bn.data = s
		start := time.Now()
		bn.memoryLimits(withCG(rcs), p.memGranularity)
		fmt.Fprintf(w, "\nC. smallest linux.resources.memory.limit with which `run` of /bin/true succeeds (bisection to %d KiB; %s)\n",
			p.memGranularity>>10, time.Since(start).Round(time.Second))
		table(w, s, withCG(rcs), []row{{"smallest memory limit (KiB)", "min memory limit", "value", "%.0f"}})
	}
	if p.sections["scaling"] && !bn.stopped.Load() {
		s := newStore()
		stores["scaling"] = s
		bn.data = s
		start := time.Now()
		bn.scaling(withCG(rcs), p.scalingLevels, p.scalingSamples)
		fmt.Fprintf(w, "\nD. scaling: medians (ms) with N running containers under one --root (bundle A without a network\n"+
			"   namespace); %d samples each; %s; load %s\n", p.scalingSamples, time.Since(start).Round(time.Second), loadavg())
		var rows []row
		for _, op := range []string{"list", "state", "exec"} {
			for _, l := range p.scalingLevels {
				rows = append(rows, row{fmt.Sprintf("%s, %d containers (ms)", scalingLabel[op], l), fmt.Sprintf("%s@%d", op, l), "median", "%.1f"})
			}
		}
		table(w, s, withCG(rcs), rows)
		printFailures(w, withCG(rcs))
	}
	for _, rc := range rcs {
		bn.cleanup(rc)
	}
	if bn.ts != nil && bn.ts.droppedRecords() {
		fmt.Fprintln(w, "rtbench: warning: the kernel dropped taskstats records; some peak RSS samples are missing")
	}
	fmt.Fprintf(w, "\nrtbench: done in %s\n", time.Since(t0).Round(time.Second))
	if out != "" {
		if err := dump(out, stores); err != nil {
			return err
		}
	}
	if bn.stopped.Load() {
		return errStopped
	}
	return nil
}

var scalingLabel = map[string]string{"list": "list --format json", "state": "state", "exec": "exec /bin/true"}

func latencyRows(p plan) []row {
	return []row{
		{"run /bin/true, median (ms)", "run", "median", "%.1f"},
		{"run /bin/true, p95 (ms)", "run", "p95", "%.1f"},
		{"create, median (ms)", "create", "median", "%.1f"},
		{"create, p95 (ms)", "create", "p95", "%.1f"},
		{"start, median (ms)", "start", "median", "%.1f"},
		{"start, p95 (ms)", "start", "p95", "%.1f"},
		{"kill, median (ms)", "kill", "median", "%.1f"},
		{"delete, median (ms)", "delete", "median", "%.1f"},
		{"delete, p95 (ms)", "delete", "p95", "%.1f"},
		{"exec /bin/true, median (ms)", "exec", "median", "%.1f"},
		{"exec /bin/true, p95 (ms)", "exec", "p95", "%.1f"},
		{fmt.Sprintf("containers/s, sequential (%d)", p.seqBursts*p.seqBurst), "tp seq", "rate", "%.1f"},
		{fmt.Sprintf("containers/s, 2-way (%d)", p.parBursts*p.parBurst), "tp par2", "rate", "%.1f"},
		{fmt.Sprintf("containers/s, 8-way (%d)", p.parBursts*p.parBurst), "tp par8", "rate", "%.1f"},
		{"CPU time, run + reaped children (ms)", "cpu run", "median", "%.1f"},
		{"CPU time, create (ms)", "cpu create", "median", "%.1f"},
		{"CPU time, init until reaped (ms)", "cpu init (reaped)", "median", "%.1f"},
		{"CPU time, start (ms)", "cpu start", "median", "%.1f"},
		{"CPU time, delete (ms)", "cpu delete", "median", "%.1f"},
		{"CPU time, exec + reaped children (ms)", "cpu exec", "median", "%.1f"},
		{"peak RSS, run (MiB)", "rss run", "median", "%.1f"},
		{"peak RSS, create (MiB)", "rss create", "median", "%.1f"},
		{"peak RSS, init before exec (MiB)", "rss init VmHWM", "median", "%.1f"},
		{"  init RSS anon at created (MiB)", "rss init anon", "median", "%.1f"},
		{"  init RSS file at created (MiB)", "rss init file", "median", "%.1f"},
		{"  init RSS shmem at created (MiB)", "rss init shmem", "median", "%.1f"},
		{"  init threads at created", "init threads", "median", "%.0f"},
		{"  memcg peak charge at created (MiB)", "cgroup charge at created", "median", "%.2f"},
		{"host memory held by a created container (MiB)", "memory held by created", "median", "%.2f"},
		{"peak RSS, start (MiB)", "rss start", "median", "%.1f"},
		{"peak RSS, exec (MiB)", "rss exec", "median", "%.1f"},
		{"peak RSS, exec's init before its exec (MiB)", "rss exec init", "median", "%.1f"},
		{"  memcg peak charge by one exec (MiB)", "cgroup charge by exec", "median", "%.2f"},
		{"peak RSS, delete (MiB)", "rss delete", "median", "%.1f"},
	}
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// rotate returns rcs starting at i mod len: each runtime takes each place in turn.
func rotate(rcs []*runtimeCfg, i int) []*runtimeCfg {
	if len(rcs) == 0 {
		return nil
	}
	i %= len(rcs)
	return append(append([]*runtimeCfg(nil), rcs[i:]...), rcs[:i]...)
}

// latency takes n samples of every per-operation figure, operation by
// operation, the runtimes in turn.
func (bn *bench) latency(rcs []*runtimeCfg, res resources, n int) {
	sleepers := map[*runtimeCfg]string{}
	for _, rc := range rcs {
		id, err := bn.startSleeper(rc, "exec", bundleSpec{args: []string{"/bin/sleep", "100000"}, res: res})
		if err != nil {
			rc.fail("start the exec container", err)
			continue
		}
		sleepers[rc] = id
	}
	type op struct {
		name string
		do   func(rc *runtimeCfg) error
		when func(i int) bool
	}
	ops := []op{
		{"run", func(rc *runtimeCfg) error { return bn.runOnce(rc, res) }, nil},
		{"create/start/delete", func(rc *runtimeCfg) error { return bn.lifecycle(rc, res, true) }, nil},
		{"kill", func(rc *runtimeCfg) error { return bn.killOnce(rc, res) }, nil},
		{"exec", func(rc *runtimeCfg) error { return bn.execOnce(rc, sleepers[rc]) }, nil},
		{"exec init peak", func(rc *runtimeCfg) error { return bn.execInitPeak(rc, sleepers[rc]) }, func(i int) bool { return i%4 == 0 }},
	}
	for i := 0; i < n && !bn.stopped.Load(); i++ {
		for _, o := range ops {
			if o.when != nil && !o.when(i) {
				continue
			}
			for _, rc := range rotate(rcs, i) {
				if rc.broken() || bn.stopped.Load() {
					continue
				}
				if strings.HasPrefix(o.name, "exec") && sleepers[rc] == "" {
					continue
				}
				if err := o.do(rc); err != nil {
					rc.fail(o.name, err)
				}
			}
		}
		bn.forget()
	}
	for rc, id := range sleepers {
		bn.forceDelete(rc, id)
	}
}

// throughput runs bursts of lifecycles, the runtimes in turn, and stores
// each burst's wall time and size.
func (bn *bench) throughput(rcs []*runtimeCfg, res resources, metric string, workers, size, bursts int) {
	for i := 0; i < bursts && !bn.stopped.Load(); i++ {
		for _, rc := range rotate(rcs, i) {
			if rc.broken() || bn.stopped.Load() {
				continue
			}
			d, err := bn.burst(rc, workers, size, res)
			if err != nil {
				rc.fail(metric, err)
				continue
			}
			bn.data.add(rc, metric, d.Seconds())
			bn.data.add(rc, metric+" n", float64(size))
		}
		bn.forget()
	}
}

// memoryLimits bisects, for every runtime, the smallest memory limit with
// which `run` of /bin/true succeeds; the runtimes take turns at each step.
func (bn *bench) memoryLimits(rcs []*runtimeCfg, granularity int64) {
	const top = 64 << 20
	lo, hi := map[*runtimeCfg]int64{}, map[*runtimeCfg]int64{}
	var active []*runtimeCfg
	for _, rc := range rcs {
		if bn.fitsMemory(rc, top) {
			lo[rc], hi[rc] = 0, top
			active = append(active, rc)
		} else {
			bn.data.add(rc, "min memory limit", math.Inf(1))
		}
	}
	for step := 0; len(active) > 0 && !bn.stopped.Load(); step++ {
		var next []*runtimeCfg
		for _, rc := range rotate(active, step) {
			if hi[rc]-lo[rc] <= granularity {
				continue
			}
			mid := (lo[rc] + hi[rc]) / 2 &^ 4095
			if bn.fitsMemory(rc, mid) {
				hi[rc] = mid
			} else {
				lo[rc] = mid
			}
			next = append(next, rc)
		}
		active = next
	}
	// Near the threshold an outcome can vary (the init's heap grows in
	// parallel with its move into the cgroup): the answer is the smallest
	// limit found that also passes three more runs.
	for _, rc := range rcs {
		h, ok := hi[rc]
		if !ok {
			continue
		}
		for tries := 0; tries < 8 && h < top && !bn.stopped.Load(); tries++ {
			if bn.fitsMemoryTimes(rc, h, 3) {
				break
			}
			h += granularity
		}
		bn.data.add(rc, "min memory limit", float64(h)/1024)
	}
}

// scaling fills one --root per runtime with running sleep containers up
// to each level and times list, state and exec there.
func (bn *bench) scaling(rcs []*runtimeCfg, levels []int, samples int) {
	bs := bundleSpec{args: []string{"/bin/sleep", "100000"}, res: withLimits, noNetwork: true}
	ids := map[*runtimeCfg][]string{}
	var mu sync.Mutex
	const chunk = 10
	for _, level := range levels {
		for more := true; more && !bn.stopped.Load(); {
			more = false
			for _, rc := range rcs {
				need := level - len(ids[rc])
				if need <= 0 || rc.broken() {
					continue
				}
				more = true
				n := min(need, chunk)
				var wg sync.WaitGroup
				for w := 0; w < 2; w++ {
					wg.Add(1)
					go func(w int) {
						defer wg.Done()
						for j := w; j < n; j += 2 {
							id, err := bn.startSleeper(rc, "scale", bs)
							if err != nil {
								rc.fail("scaling: start container", err)
								continue
							}
							mu.Lock()
							ids[rc] = append(ids[rc], id)
							mu.Unlock()
						}
					}(w)
				}
				wg.Wait()
			}
		}
		for i := 0; i < samples && !bn.stopped.Load(); i++ {
			for _, rc := range rotate(rcs, i) {
				if len(ids[rc]) < level || rc.broken() {
					continue
				}
				id := ids[rc][0]
				for _, q := range []struct {
					op   string
					args []string
				}{
					{"list", []string{"list", "--format", "json"}},
					{"state", []string{"state", id}},
					{"exec", []string{"exec", id, "/bin/true"}},
				} {
					r, err := bn.run(rc, q.args...)
					if err != nil {
						rc.fail("scaling: "+q.op, err)
						continue
					}
					bn.data.add(rc, fmt.Sprintf("%s@%d", q.op, level), ms(r.dur))
				}
			}
		}
	}
	for _, rc := range rcs {
		list := ids[rc]
		var wg sync.WaitGroup
		for w := 0; w < 2; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for j := w; j < len(list); j += 2 {
					bn.forceDelete(rc, list[j])
				}
			}(w)
		}
		wg.Wait()
	}
	bn.forget()
}

func (bn *bench) forget() {
	bn.r.forget()
	if bn.ts != nil {
		bn.ts.forget()
	}
}
