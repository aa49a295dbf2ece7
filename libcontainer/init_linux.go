package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Init is the entry point of the re-executed `rt init`. It never returns.
func Init() {
	// Credentials and namespaces are per thread in the kernel: keep the setup on one.
	runtime.LockOSThread()
	fd, err := strconv.Atoi(os.Getenv(initSockEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "rt init: not started by rt")
		os.Exit(255)
	}
	os.Unsetenv(initSockEnv)
	// The binary we were executed from is of no further use, and hooks and
	// the container process must not inherit it.
	if exeFd, err := strconv.Atoi(os.Getenv(initExeEnv)); err == nil {
		unix.Close(exeFd)
	}
	os.Unsetenv(initExeEnv)
	ch := &channel{f: os.NewFile(uintptr(fd), "init-sock")}
	logrus.SetOutput(logWriter{ch})
	logrus.SetFormatter(&logrus.JSONFormatter{})
	cfg, err := readInitConfig(ch)
	if err == nil {
		switch cfg.Mode {
		case modeStandard:
			err = standardInit(ch, cfg)
		case modeExec:
			err = execInit(ch, cfg)
		default:
			err = fmt.Errorf("unknown init mode %q", cfg.Mode)
		}
	}
	// Only failures get here: success ends in execve.
	ch.send(message{Type: msgError, Error: err.Error()})
	os.Exit(1)
}

func readInitConfig(ch *channel) (*initConfig, error) {
	m, _, err := ch.expect(msgConfig)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var cfg initConfig
	if err := json.Unmarshal(m.Config, &cfg); err != nil {
		return nil, fmt.Errorf("decode config: %w", err)
	}
	return &cfg, nil
}

// standardInit turns this process into the container: the whole setup, in the
// order the kernel needs it. Errors before "ready" return to the parent over
// the socket; later ones go to `rt start` through exec.fifo.
func standardInit(ch *channel, cfg *initConfig) error {
	spec, proc := cfg.Spec, cfg.Process

	// Relative bind-mount sources are relative to the bundle, as with runc.
	if err := os.Chdir(cfg.Bundle); err != nil {
		if hasNamespace(spec, specs.MountNamespace) && !hasNewNamespace(spec, specs.MountNamespace) {
			return fmt.Errorf("linux.namespaces: the joined mount namespace does not show the bundle %s: %w", cfg.Bundle, err)
		}
		return fmt.Errorf("chdir to bundle: %w", err)
	}
	// 1. A session of our own; the terminal (if any) becomes its controlling tty below.
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("setsid: %w", err)
	}
	// 2. A time namespace must get its offsets before any process enters it;
	// this process enters it at its final execve.
	if hasNewNamespace(spec, specs.TimeNamespace) {
		if err := unshareTime(spec.Linux.TimeOffsets); err != nil {
			return err
		}
	}
	// 3. Filesystem: mounts, /dev, devices; prestart/createRuntime hooks in
	// the parent and createContainer hooks here, then pivot_root.
	rc := &rootfsConfig{
		Spec:        spec,
		Rootfs:      cfg.Rootfs,
		NoPivot:     cfg.NoPivot,
		UserNS:      cfg.NewUserNS || hasNamespace(spec, specs.UserNamespace),
		CgroupPaths: cfg.CgroupPaths,
		CgroupNS:    hasNamespace(spec, specs.CgroupNamespace),
		HostMountNS: !hasNamespace(spec, specs.MountNamespace),
	}
	if err := setupRootfs(rc, func() error { return createHooks(ch, cfg) }); err != nil {
		return err
	}
	// Before root.readonly and readonlyPaths make that impossible.
	if err := createCwd(proc); err != nil {
		return err
	}
	// 4. The terminal is created inside the container's devpts.
	if proc.Terminal {
		if err := setupConsole(cfg.ConsoleFd, true); err != nil {
			return err
		}
	}
	// 5. Identity of the namespaces we own.
	if err := setHostAndDomain(spec); err != nil {
		return err
	}
	if err := writeSysctls(spec.Linux.Sysctl); err != nil {
		return err
	}
	// 6. Masked and read-only paths, then the read-only root.
	if err := finalizeRootfs(rc); err != nil {
		return err
	}
	// 7. The process's attributes, ending with the credentials and the seccomp filter.
	path, err := lookPath(proc.Args[0], proc.Env)
	if err != nil {
		return err
	}
	if err := applyProcess(ch, cfg); err != nil {
		return err
	}
	if err := closeExtraFds(3 + cfg.PreserveFds); err != nil {
		return err
	}
	// 8. Ready: wait for `rt start` on exec.fifo, then startContainer hooks and exec.
	if err := ch.send(message{Type: msgReady}); err != nil {
		return err
	}
	logrus.SetOutput(io.Discard)
	ch.f.Close()
	fifo, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(cfg.FifoFd), os.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		// Nobody is listening on the socket any more: stderr is all we have.
		fmt.Fprintf(os.Stderr, "rt init: open exec fifo: %v\n", err)
		os.Exit(1)
	}
	unix.Close(cfg.FifoFd)
	fail := func(err error) {
		fifo.Write([]byte(fifoErrorPrefix + err.Error()))
		os.Exit(1)
	}
	if spec.Hooks != nil && len(spec.Hooks.StartContainer) > 0 {
		st := specs.State{Version: specs.Version, ID: cfg.ID, Status: specs.StateCreated, Pid: cfg.HostPid, Bundle: cfg.Bundle, Annotations: spec.Annotations}
		if err := runHooks("startContainer", spec.Hooks.StartContainer, st); err != nil {
			fail(err)
		}
	}
	err = unix.Exec(path, proc.Args, proc.Env)
	fail(fmt.Errorf("exec %s: %w", proc.Args[0], err))
	return nil
}

// createHooks runs between the mounts and pivot_root: the parent runs
// prestart and createRuntime in the runtime namespace, then we run
// createContainer in the container's.
func createHooks(ch *channel, cfg *initConfig) error {
	if err := ch.send(message{Type: msgRunHooks}); err != nil {
		return err
	}
	if _, _, err := ch.expect(msgHooksDone); err != nil {
		return err
	}
	if h := cfg.Spec.Hooks; h != nil && len(h.CreateContainer) > 0 {
		st := specs.State{Version: specs.Version, ID: cfg.ID, Status: specs.StateCreating, Pid: cfg.HostPid, Bundle: cfg.Bundle, Annotations: cfg.Spec.Annotations}
		return runHooks("createContainer", h.CreateContainer, st)
	}
	return nil
}

func hasNamespace(spec *specs.Spec, t specs.LinuxNamespaceType) bool {
	if spec.Linux == nil {
		return false
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == t {
			return true
		}
	}
	return false
}

func hasNewNamespace(spec *specs.Spec, t specs.LinuxNamespaceType) bool {
	if spec.Linux == nil {
		return false
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == t && ns.Path == "" {
			return true
		}
	}
	return false
}

func unshareTime(offsets map[string]specs.LinuxTimeOffset) error {
	if err := unix.Unshare(unix.CLONE_NEWTIME); err != nil {
		return fmt.Errorf("unshare time namespace: %w", err)
	}
	var b strings.Builder
	for clock, off := range offsets {
		fmt.Fprintf(&b, "%s %d %d\n", clock, off.Secs, off.Nanosecs)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := os.WriteFile("/proc/self/timens_offsets", []byte(b.String()), 0); err != nil {
		return fmt.Errorf("linux.timeOffsets: %w", err)
	}
	return nil
}

func setHostAndDomain(spec *specs.Spec) error {
	if spec.Hostname != "" {
		if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
			return fmt.Errorf("hostname: %w", err)
		}
	}
	if spec.Domainname != "" {
		if err := unix.Setdomainname([]byte(spec.Domainname)); err != nil {
			return fmt.Errorf("domainname: %w", err)
		}
	}
	return nil
}

func writeSysctls(sysctl map[string]string) error {
	for k, v := range sysctl {
		p := filepath.Join("/proc/sys", strings.ReplaceAll(k, ".", "/"))
		if err := os.WriteFile(p, []byte(v), 0); err != nil {
			return fmt.Errorf("linux.sysctl[%q]: %w", k, err)
		}
	}
	return nil
}

// createCwd makes process.cwd exist, as runc does, before credentials change.
func createCwd(proc *specs.Process) error {
	if proc.Cwd == "" {
		return nil
	}
	if err := os.MkdirAll(proc.Cwd, 0o755); err != nil {
		return fmt.Errorf("process.cwd: %w", err)
	}
	return nil
}

// lookPath finds the executable the way execvp would with the process's PATH.
func lookPath(file string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		if err := checkExecutable(file); err != nil {
			return "", fmt.Errorf("exec: %q: %w", file, err)
		}
		return file, nil
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", file)
}

func checkExecutable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if st.IsDir() {
		return errors.New("is a directory")
	}
	if st.Mode()&0o111 == 0 {
		return os.ErrPermission
	}
	return nil
}

// closeExtraFds marks every fd from first on close-on-exec, so nothing of
// rt's reaches the container process.
func closeExtraFds(first int) error {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("list fds: %w", err)
	}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < first {
			continue
		}
		unix.CloseOnExec(fd)
	}
	return nil
}
