package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// exit is what wait4 reported for one process, and when.
type exit struct {
	ws syscall.WaitStatus
	ru syscall.Rusage
	at time.Time
}

// cpu is the user and system time of the process and of the children it
// reaped: on a loaded machine a steadier figure than the wall time.
func (e exit) cpu() time.Duration {
	return time.Duration(e.ru.Utime.Nano() + e.ru.Stime.Nano())
}

// reaper is the benchmark's only wait4 caller. The benchmark is a child
// subreaper: a container's init is reparented to it when the create command
// exits, so its exit arrives here too, as with an engine's shim.
type reaper struct {
	mu      sync.Mutex
	cond    *sync.Cond
	started int // commands started and not yet reaped
	spawned map[int]bool
	waiters map[int]chan exit
	// orphans holds exits of processes nobody waited for yet (reparented
	// container processes).
	orphans map[int]exit
}

func newReaper() (*reaper, error) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("become child subreaper: %w", err)
	}
	r := &reaper{waiters: map[int]chan exit{}, orphans: map[int]exit{}, spawned: map[int]bool{}}
	r.cond = sync.NewCond(&r.mu)
	go r.loop()
	return r, nil
}

// loop blocks in wait4 on a thread of its own, so an exit is timestamped
// as soon as the kernel reports it.
func (r *reaper) loop() {
	runtime.LockOSThread()
	for {
		var e exit
		pid, err := syscall.Wait4(-1, &e.ws, 0, &e.ru)
		e.at = time.Now()
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.ECHILD:
			// Orphans only appear when a child of ours exits, so with no
			// child there is nothing to wait for until the next start.
			r.mu.Lock()
			for r.started == 0 {
				r.cond.Wait()
			}
			r.mu.Unlock()
			continue
		case err != nil:
			fmt.Fprintf(os.Stderr, "rtbench: wait4: %v\n", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		r.mu.Lock()
		if r.spawned[pid] {
			delete(r.spawned, pid)
			r.started--
		}
		if c, ok := r.waiters[pid]; ok {
			delete(r.waiters, pid)
			c <- e
		} else {
			r.orphans[pid] = e
		}
		r.mu.Unlock()
	}
}

// spawn starts argv with the given stdio; the lock is held across the fork
// so that the exit cannot be reaped before its waiter is registered.
func (r *reaper) spawn(argv []string, env []string, files []uintptr) (int, <-chan exit, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	pid, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{Env: env, Files: files})
	if err != nil {
		return 0, nil, err
	}
	c := make(chan exit, 1)
	r.waiters[pid] = c
	r.started++
	r.cond.Signal()
	r.spawned[pid] = true
	return pid, c, nil
}

// awaitOrphan waits up to timeout for pid, a process reparented to us, to
// exit after since (an older exit of a reused pid does not count).
func (r *reaper) awaitOrphan(pid int, since time.Time, timeout time.Duration) (exit, error) {
	r.mu.Lock()
	if e, ok := r.orphans[pid]; ok {
		delete(r.orphans, pid)
		if e.at.After(since) {
			r.mu.Unlock()
			return e, nil
		}
	}
	c := make(chan exit, 1)
	r.waiters[pid] = c
	r.mu.Unlock()
	select {
	case e := <-c:
		return e, nil
	case <-time.After(timeout):
		r.mu.Lock()
		delete(r.waiters, pid)
		r.mu.Unlock()
		return exit{}, fmt.Errorf("pid %d did not exit within %s", pid, timeout)
	}
}

// forget drops remembered exits older than a minute: their pids may be reused.
func (r *reaper) forget() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for pid, e := range r.orphans {
		if time.Since(e.at) > time.Minute {
			delete(r.orphans, pid)
		}
	}
}

// result is one timed command.
type result struct {
	pid    int
	start  time.Time
	dur    time.Duration
	exit   exit
	stdout []byte
	stderr []byte
}

// commandTimeout bounds every runtime command: a hung runtime fails its
// sample, not the benchmark.
const commandTimeout = 60 * time.Second

var errTimeout = errors.New("timed out")

// command runs argv with stdin /dev/null and stdout/stderr in files under
// dir, and times it from just before the fork to the moment wait4 returns.
// Opening the files is outside the timed region.
func (r *reaper) command(dir string, argv []string) (result, error) {
	var res result
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return res, err
	}
	defer devnull.Close()
	out, err := os.CreateTemp(dir, "out.*")
	if err != nil {
		return res, err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	errf, err := os.CreateTemp(dir, "err.*")
	if err != nil {
		return res, err
	}
	defer os.Remove(errf.Name())
	defer errf.Close()

	t0 := time.Now()
	pid, c, err := r.spawn(argv, benchEnv, []uintptr{devnull.Fd(), out.Fd(), errf.Fd()})
	if err != nil {
		return res, fmt.Errorf("start %s: %w", argv[0], err)
	}
	var e exit
	select {
	case e = <-c:
	case <-time.After(commandTimeout):
		syscall.Kill(pid, syscall.SIGKILL)
		<-c
		return res, fmt.Errorf("%s: %w after %s", strings.Join(argv, " "), errTimeout, commandTimeout)
	}
	res.pid, res.start, res.dur = pid, t0, e.at.Sub(t0)
	res.exit = e
	res.stdout, _ = os.ReadFile(out.Name())
	res.stderr, _ = os.ReadFile(errf.Name())
	if !e.ws.Exited() || e.ws.ExitStatus() != 0 {
		return res, fmt.Errorf("%s: %s: %s", shortArgv(argv), describeWait(e.ws), lastLine(res.stderr))
	}
	return res, nil
}

func describeWait(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return "killed by " + ws.Signal().String()
	}
	return fmt.Sprintf("exit %d", ws.ExitStatus())
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	l := lines[len(lines)-1]
	if len(l) > 400 {
		l = l[len(l)-400:]
	}
	return l
}

func shortArgv(argv []string) string {
	a := append([]string{filepath.Base(argv[0])}, argv[1:]...)
	return strings.Join(a, " ")
}

// benchEnv is the environment of every runtime command.
var benchEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
