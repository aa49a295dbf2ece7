package initproc

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/trace"
	"github.com/rtproject/rt/libcontainer/capabilities"
	"github.com/rtproject/rt/libcontainer/internal/initproto"
	"github.com/rtproject/rt/libcontainer/internal/kernel"
	"github.com/rtproject/rt/libcontainer/system"
	"github.com/rtproject/rt/nsenter"
)

// PrepareExec is the fast path of `rt exec` (nsenter.SpawnConfig.ExecProcess),
// run by nsenter.RunIntermediate in the fresh image of rt that already sits
// in every namespace of the container but pid, before it joins the pid
// namespace and forks the process: it does the Go work of the exec init
// (execInit) here, so that the process needs no third Go runtime. It reads
// the config from rt, sets what a fork inherits from this thread and
// process, and returns the steps that only the forked child can take, as
// nsenter.ExecProcess. A failure goes to rt over the init socket, as the
// exec init's do, and PrepareExec returns it.
//
// The fresh image is non-dumpable, outside the container's pid namespace,
// and holds only the fds the exec init would (Spawn's), so it runs what
// the exec init ran, with the same privileges, in the same place.
func PrepareExec() (*nsenter.ExecProcess, error) {
	// The thread that forks the process passes it its scheduling
	// attributes: everything below runs on it (main locks it for "init").
	runtime.LockOSThread()
	sockFd, err := strconv.Atoi(os.Getenv(initproto.SockEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "rt init: not started by rt")
		return nil, fmt.Errorf("no %s", initproto.SockEnv)
	}
	os.Unsetenv(initproto.SockEnv)
	ch := initproto.NewChannel(os.NewFile(uintptr(sockFd), "init-sock"))
	// Until the process has exec'd, this must not outlive rt. The child
	// starts without it (fork clears it), as the exec init clears it.
	armParentDeath(true)
	cfg, err := readInitConfig(ch)
	// rt reads the socket only once Spawn returns, after the fork: what we
	// log must fit in the socket's buffer, or we would wait for rt and rt
	// for us.
	logrus.SetOutput(&boundedLog{w: initproto.LogWriter{Ch: ch}, entries: maxPreparedLogEntries, bytes: maxPreparedLogBytes})
	var p *nsenter.ExecProcess
	if err == nil {
		if cfg.Mode != initproto.ModeExec {
			err = fmt.Errorf("the fast path of exec got an init of mode %q", cfg.Mode)
		} else {
			p, err = prepareExecProcess(cfg, sockFd)
		}
	}
	if err != nil {
		ch.Send(initproto.Message{Type: initproto.MsgError, Error: err.Error()})
		return nil, err
	}
	return p, nil
}

// prepareExecProcess is execInit and prepareProcess up to the fork, in
// their order; the steps left to the child keep their relative order.
func prepareExecProcess(cfg *initproto.Config, sockFd int) (*nsenter.ExecProcess, error) {
	proc := cfg.Process
	who := cfg.Mode.TraceName()
	if err := ValidateProcess(proc); err != nil {
		return nil, err
	}
	path, err := lookPath(proc.Args[0], proc.Env)
	if err != nil {
		return nil, fmt.Errorf("process.args[0]: %w", err)
	}
	trace.Log("%s: process.args[0] %q is %s", who, proc.Args[0], path)
	// The pty's slave becomes our stdio, which the child inherits; only
	// the controlling terminal waits for the child's new session.
	if proc.Terminal {
		if err := openConsoleOnStdio(cfg, false); err != nil {
			return nil, err
		}
	} else if cfg.ConsoleFd >= 0 {
		unix.Close(cfg.ConsoleFd)
	}
	ep := &nsenter.ExecProcess{Path: path, Argv: proc.Args, MemoryTasks: -1, Terminal: proc.Terminal,
		CloseFrom: 3 + cfg.PreserveFds, SockFd: sockFd, NoNewPrivs: proc.NoNewPrivileges,
		UID: proc.User.UID, GID: proc.User.GID, Groups: proc.User.AdditionalGids, CwdRoot: -1}
	if cfg.JoinMemoryFd > 0 {
		ep.MemoryTasks = cfg.JoinMemoryFd
	}
	if cfg.Spec.Linux != nil {
		prog, err := compileSeccomp(cfg.Spec.Linux.Seccomp, who)
		if err != nil {
			return nil, err
		}
		if prog != nil {
			ep.Seccomp, ep.SeccompFlags = prog.SockFprog(), prog.Flags()
			// runc's words and value, which its tests look for.
			trace.Log("seccomp filter flags: %d", prog.ProfileFlags())
		}
	}
	caps, err := capabilities.New(proc.Capabilities)
	if err != nil {
		return nil, err
	}
	if err := system.ValidateRlimits(proc.Rlimits); err != nil {
		return nil, err
	}
	for _, r := range proc.Rlimits {
		n, _ := system.RlimitNumber(r.Type)
		ep.Rlimits = append(ep.Rlimits, nsenter.Rlimit{Resource: n, Soft: r.Soft, Max: r.Hard})
	}
	t := trace.Start()
	if err := setSchedulingAttrs(cfg); err != nil {
		return nil, err
	}
	t.Done("%s: oom_score_adj, scheduler, I/O priority, personality, memory policy, CPU affinity set for the process", who)
	// fs_struct (cwd, umask) is copied by fork.
	if err := enterCwd(proc.Cwd); err != nil {
		// Not even root could enter it: the child tries again with the
		// process's credentials.
		root, err := unix.Open(cwdRoot, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("process.cwd: open the container's root: %w", err)
		}
		ep.CwdRetry, ep.CwdRoot = proc.Cwd, root
	}
	fixStdioOwner(proc.User)
	prepareEnv(proc)
	ep.Env = proc.Env
	if err := system.ValidateUser(proc.User); err != nil {
		return nil, err
	}
	if proc.User.Umask != nil {
		kernel.Umask(int(*proc.User.Umask))
	}
	if caps != nil {
		drops, err := caps.BoundingDrops()
		if err != nil {
			return nil, err
		}
		securebits, err := kernel.PrctlRetInt(unix.PR_GET_SECUREBITS, 0, 0, 0, 0)
		if err != nil {
			return nil, fmt.Errorf("prctl(PR_GET_SECUREBITS): %w", err)
		}
		ep.Caps = &nsenter.ExecCaps{BoundingDrop: drops, Effective: caps.Effective, Permitted: caps.Permitted,
			Inheritable: caps.Inheritable, Ambient: caps.RaisableAmbient(securebits)}
	}
	if ep.ExecMessage, err = initproto.Encode(initproto.Message{Type: initproto.MsgExec}); err != nil {
		return nil, err
	}
	if trace.Enabled() {
		c := "capabilities unchanged"
		if caps != nil {
			c = fmt.Sprintf("capabilities bounding %#x effective %#x permitted %#x inheritable %#x ambient %#x",
				caps.Bounding, caps.Effective, caps.Permitted, caps.Inheritable, caps.Ambient)
		}
		trace.Log("%s: prepared in the fresh image; the forked child joins the memory cgroup, setsid, %d rlimits, seccomp, user %d:%d (groups %v), %s, no_new_privs %v, then execs",
			who, len(proc.Rlimits), proc.User.UID, proc.User.GID, proc.User.AdditionalGids, c, proc.NoNewPrivileges)
	}
	if err := ep.Prepare(); err != nil {
		return nil, err
	}
	// Nothing more goes over the socket before the child's exec message.
	logrus.SetOutput(io.Discard)
	return ep, nil
}

// The fresh image's log before the fork is at most this much: the trace's
// half dozen lines and a few warnings. Even as separate messages of a
// kilobyte each it stays well below the 208 KiB a unix socket buffers by
// default (net.core.wmem_default), counted with the kernel's overhead of
// under a kilobyte per message.
const (
	maxPreparedLogEntries = 48
	maxPreparedLogBytes   = 32 << 10
)

// boundedLog passes entries on to w until entries or bytes run out, then
// drops them, saying so once.
type boundedLog struct {
	w              io.Writer
	entries, bytes int
	dropped        bool
}

func (b *boundedLog) Write(p []byte) (int, error) {
	if b.entries > 1 && len(p) <= b.bytes {
		b.entries--
		b.bytes -= len(p)
		return b.w.Write(p)
	}
	if !b.dropped && b.entries > 0 {
		b.dropped, b.entries = true, 0
		b.w.Write([]byte(`{"level":"warning","msg":"exec: the fresh image's further log lines are dropped"}` + "\n"))
	}
	return len(p), nil
}
