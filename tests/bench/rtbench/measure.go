package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// runtimeCfg is one column of the report: a runtime binary and its global flags.
type runtimeCfg struct {
	name      string
	bin       string
	global    []string
	root      string
	noCgroups bool // crun --cgroup-manager=disabled: only in the no-resources comparison
	version   string

	mu       sync.Mutex
	failures []string
	live     map[string]bool // containers that may exist, for the final cleanup
}

func (rc *runtimeCfg) argv(args ...string) []string {
	a := append([]string{rc.bin, "--root", rc.root}, rc.global...)
	return append(a, args...)
}

// maxFailures drops a runtime from the rest of a comparison: a runtime that
// cannot run the bundle would otherwise spend the benchmark on timeouts.
const maxFailures = 5

func (rc *runtimeCfg) fail(what string, err error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.failures = append(rc.failures, what+": "+err.Error())
}

func (rc *runtimeCfg) broken() bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.failures) >= maxFailures
}

func (rc *runtimeCfg) track(id string, exists bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if exists {
		rc.live[id] = true
	} else {
		delete(rc.live, id)
	}
}

// bench holds what every measurement needs.
type bench struct {
	r       *reaper
	ts      *taskstatsListener // nil: no peak RSS figures
	b       *bundles
	tmp     string
	data    *store
	seq     atomic.Int64
	stopped atomic.Bool
}

func (bn *bench) newID(rc *runtimeCfg, tag string) string {
	return fmt.Sprintf("%s-%s-%d", strings.ReplaceAll(rc.name, ".", ""), tag, bn.seq.Add(1))
}

// run runs one runtime command, untimed use.
func (bn *bench) run(rc *runtimeCfg, args ...string) (result, error) {
	return bn.r.command(bn.tmp, rc.argv(args...))
}

// forceDelete removes a container whatever its state, and its bundle.
func (bn *bench) forceDelete(rc *runtimeCfg, id string) {
	if _, err := bn.run(rc, "delete", "--force", id); err == nil || !bn.exists(rc, id) {
		rc.track(id, false)
	}
	bn.b.remove(id)
}

func (bn *bench) exists(rc *runtimeCfg, id string) bool {
	_, err := os.Stat(filepath.Join(rc.root, id))
	return err == nil
}

// created is a container left in the created state by create.
type created struct {
	id    string
	pid   int
	since time.Time // before create: the init's exit comes later
	res   result
}

func (bn *bench) create(rc *runtimeCfg, tag string, bs bundleSpec) (*created, error) {
	id := bn.newID(rc, tag)
	dir, err := bn.b.write(id, bs)
	if err != nil {
		return nil, err
	}
	pidFile := filepath.Join(bn.tmp, id+".pid")
	defer os.Remove(pidFile)
	c := &created{id: id, since: time.Now()}
	rc.track(id, true)
	c.res, err = bn.run(rc, "create", "--bundle", dir, "--pid-file", pidFile, id)
	if err != nil {
		bn.forceDelete(rc, id)
		return nil, err
	}
	if c.pid, err = readPid(pidFile); err != nil {
		bn.forceDelete(rc, id)
		return nil, err
	}
	return c, nil
}

func readPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// lifecycle is create, start, wait for the exit, delete: how an engine
// (containerd's shim, a subreaper like this benchmark) runs a container.
// With record it stores the latencies and the peak RSS of each step.
func (bn *bench) lifecycle(rc *runtimeCfg, res resources, record bool) error {
	before, _ := benchMemoryUsage()
	c, err := bn.create(rc, "life", bundleSpec{args: []string{"/bin/true"}, res: res})
	if err != nil {
		return err
	}
	if record {
		if after, err := benchMemoryUsage(); err == nil && before > 0 {
			bn.data.add(rc, "memory held by created", mib(after-before))
		}
		bn.data.add(rc, "create", ms(c.res.dur))
		bn.addPeakRSS(rc, "rss create", c.res)
		bn.data.add(rc, "cpu create", ms(c.res.exit.cpu()))
		bn.recordInit(rc, c)
	}
	st, err := bn.run(rc, "start", c.id)
	if err != nil {
		bn.forceDelete(rc, c.id)
		return err
	}
	e, err := bn.r.awaitOrphan(c.pid, c.since, 30*time.Second)
	if err != nil {
		bn.forceDelete(rc, c.id)
		return err
	}
	d, err := bn.run(rc, "delete", c.id)
	if err != nil {
		bn.forceDelete(rc, c.id)
		return err
	}
	rc.track(c.id, false)
	bn.b.remove(c.id)
	if record {
		bn.data.add(rc, "start", ms(st.dur))
		bn.addPeakRSS(rc, "rss start", st)
		bn.data.add(rc, "delete", ms(d.dur))
		bn.addPeakRSS(rc, "rss delete", d)
		bn.data.add(rc, "cpu start", ms(st.exit.cpu()))
		bn.data.add(rc, "cpu delete", ms(d.exit.cpu()))
		bn.data.add(rc, "cpu init (reaped)", ms(e.cpu()))
	}
	return nil
}

// recordInit samples the init of a created container while it waits on
// exec.fifo: its peak RSS so far (VmHWM), what its RSS is made of, and
// the peak charge of the container's memory cgroup.
func (bn *bench) recordInit(rc *runtimeCfg, c *created) {
	st, err := procStatus(c.pid)
	if err == nil {
		bn.data.add(rc, "rss init VmHWM", kib(st["VmHWM"]))
		bn.data.add(rc, "rss init anon", kib(st["RssAnon"]))
		bn.data.add(rc, "rss init file", kib(st["RssFile"]))
		bn.data.add(rc, "rss init shmem", kib(st["RssShmem"]))
		bn.data.add(rc, "init threads", float64(st["Threads"]))
	}
	if rc.noCgroups {
		return
	}
	if v, err := readInt(filepath.Join("/sys/fs/cgroup/memory", cgroupsPath(c.id), "memory.max_usage_in_bytes")); err == nil {
		bn.data.add(rc, "cgroup charge at created", mib(v))
	}
}

// benchMemoryUsage is what the benchmark's memory cgroup (the root of its
// cgroup namespace) and everything below it are charged now: with one
// container created at a time, the growth across a create is what a
// created container holds on the host (its init's memory, and what the
// runtime made for it, e.g. a memfd copy of its binary).
func benchMemoryUsage() (int64, error) {
	return readInt("/sys/fs/cgroup/memory/memory.usage_in_bytes")
}

func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

// procStatus reads the numeric fields of /proc/<pid>/status (kB values in kB).
func procStatus(pid int) (map[string]int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	m := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			m[k] = n
		}
	}
	return m, nil
}

// runOnce times a foreground `run` of /bin/true.
func (bn *bench) runOnce(rc *runtimeCfg, res resources) error {
	id := bn.newID(rc, "run")
	dir, err := bn.b.write(id, bundleSpec{args: []string{"/bin/true"}, res: res})
	if err != nil {
		return err
	}
	rc.track(id, true)
	r, err := bn.run(rc, "run", "--bundle", dir, id)
	if err != nil {
		bn.forceDelete(rc, id)
		return err
	}
	if bn.exists(rc, id) {
		bn.forceDelete(rc, id)
		return fmt.Errorf("run %s left its container behind", id)
	}
	rc.track(id, false)
	bn.b.remove(id)
	bn.data.add(rc, "run", ms(r.dur))
	bn.addPeakRSS(rc, "rss run", r)
	bn.data.add(rc, "cpu run", ms(r.exit.cpu()))
	return nil
}

// killOnce times `kill ID KILL` of a running sleep container.
func (bn *bench) killOnce(rc *runtimeCfg, res resources) error {
	c, err := bn.create(rc, "kill", bundleSpec{args: []string{"/bin/sleep", "100000"}, res: res})
	if err != nil {
		return err
	}
	if _, err := bn.run(rc, "start", c.id); err != nil {
		bn.forceDelete(rc, c.id)
		return err
	}
	k, err := bn.run(rc, "kill", c.id, "KILL")
	if err != nil {
		bn.forceDelete(rc, c.id)
		return err
	}
	if _, err := bn.r.awaitOrphan(c.pid, c.since, 30*time.Second); err != nil {
		bn.forceDelete(rc, c.id)
		return err
	}
	bn.data.add(rc, "kill", ms(k.dur))
	if _, err := bn.run(rc, "delete", c.id); err != nil {
		bn.forceDelete(rc, c.id)
		return err
	}
	rc.track(c.id, false)
	bn.b.remove(c.id)
	return nil
}

// startSleeper runs a sleep container to exec into.
func (bn *bench) startSleeper(rc *runtimeCfg, tag string, bs bundleSpec) (string, error) {
	id := bn.newID(rc, tag)
	dir, err := bn.b.write(id, bs)
	if err != nil {
		return "", err
	}
	rc.track(id, true)
	if _, err := bn.run(rc, "run", "--detach", "--bundle", dir, id); err != nil {
		bn.forceDelete(rc, id)
		return "", err
	}
	return id, nil
}

// execOnce times a foreground `exec ID /bin/true`.
func (bn *bench) execOnce(rc *runtimeCfg, id string) error {
	memcg := filepath.Join("/sys/fs/cgroup/memory", cgroupsPath(id))
	before, cerr := readInt(filepath.Join(memcg, "memory.usage_in_bytes"))
	if cerr == nil {
		cerr = os.WriteFile(filepath.Join(memcg, "memory.max_usage_in_bytes"), []byte("0"), 0)
	}
	r, err := bn.run(rc, "exec", id, "/bin/true")
	if err != nil {
		return err
	}
	if peak, err := readInt(filepath.Join(memcg, "memory.max_usage_in_bytes")); err == nil && cerr == nil && !rc.noCgroups {
		bn.data.add(rc, "cgroup charge by exec", mib(peak-before))
	}
	bn.data.add(rc, "exec", ms(r.dur))
	bn.addPeakRSS(rc, "rss exec", r)
	bn.data.add(rc, "cpu exec", ms(r.exit.cpu()))
	return nil
}

// execInitPeak runs `exec ID /bin/noexec`: a dynamically linked binary
// whose loader the busybox rootfs lacks, so that execve fails with ENOENT
// at the very end (no shell fallback, unlike ENOEXEC) and the runtime's
// exec process exits instead of becoming the container process. Its
// taskstats exit record then holds its whole peak RSS.
func (bn *bench) execInitPeak(rc *runtimeCfg, id string) error {
	if bn.ts == nil {
		return nil
	}
	r, err := bn.run(rc, "exec", id, "/bin/noexec")
	if err == nil {
		return fmt.Errorf("exec of /bin/noexec succeeded")
	}
	if errors.Is(err, errTimeout) || r.pid == 0 {
		return err
	}
	if peak, ok := bn.ts.failedDescendantPeak(r.pid, r.start); ok {
		bn.data.add(rc, "rss exec init", mib(peak))
	}
	return nil
}

// addPeakRSS stores the peak RSS of a command's own process.
func (bn *bench) addPeakRSS(rc *runtimeCfg, metric string, r result) {
	if bn.ts == nil {
		return
	}
	if rec, ok := bn.ts.record(r.pid); ok {
		bn.data.add(rc, metric, mib(rec.hiwaterRSS))
	}
}

// burst runs count lifecycles over workers in parallel and returns the wall time.
func (bn *bench) burst(rc *runtimeCfg, workers, count int, res resources) (time.Duration, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	var next atomic.Int64
	t0 := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(count) {
				if err := bn.lifecycle(rc, res, false); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(t0), first
}

// fitsMemory reports whether `run` of /bin/true succeeds with the given
// memory limit.
func (bn *bench) fitsMemory(rc *runtimeCfg, limit int64) bool {
	id := bn.newID(rc, "mem")
	dir, err := bn.b.write(id, bundleSpec{args: []string{"/bin/true"}, res: withLimits, memLimit: limit})
	if err != nil {
		return false
	}
	rc.track(id, true)
	_, err = bn.run(rc, "run", "--bundle", dir, id)
	bn.forceDelete(rc, id)
	return err == nil
}

// cleanup force-deletes every container a runtime may still have.
func (bn *bench) cleanup(rc *runtimeCfg) {
	rc.mu.Lock()
	var ids []string
	for id := range rc.live {
		ids = append(ids, id)
	}
	rc.mu.Unlock()
	if r, err := bn.run(rc, "list", "-q"); err == nil {
		ids = append(ids, strings.Fields(string(r.stdout))...)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		bn.forceDelete(rc, id)
		if bn.exists(rc, id) {
			fmt.Fprintf(os.Stderr, "rtbench: cannot delete %s container %s\n", rc.name, id)
		}
	}
}

var errStopped = errors.New("interrupted")

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func mib(b int64) float64        { return float64(b) / (1 << 20) }
func kib(k int64) float64        { return float64(k) / 1024 }

// fitsMemoryTimes reports whether fitsMemory holds n runs in a row: a limit
// near the edge passes or fails with the timing of the init's cgroup move.
func (bn *bench) fitsMemoryTimes(rc *runtimeCfg, limit int64, n int) bool {
	for i := 0; i < n; i++ {
		if !bn.fitsMemory(rc, limit) {
			return false
		}
	}
	return true
}
