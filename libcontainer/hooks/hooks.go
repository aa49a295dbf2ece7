// Package hooks runs the hooks of config.json, which the runtime runs on the
// host (prestart, createRuntime, poststart, poststop) and the container's
// init runs inside the container (createContainer, startContainer), and
// builds the runtime-spec state they, and the seccomp agent, receive.
package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// State is the runtime-spec state of container id, as hooks and the seccomp
// agent receive it; spec supplies the annotations and may be nil.
func State(id, bundle string, spec *specs.Spec, status specs.ContainerState, pid int) specs.State {
	st := specs.State{Version: specs.Version, ID: id, Status: status, Pid: pid, Bundle: bundle}
	if spec != nil {
		st.Annotations = spec.Annotations
	}
	return st
}

// runHook runs one hook with the container state on its stdin, as the runtime-spec requires.
func runHook(h specs.Hook, state specs.State) error {
	data, err := json.Marshal(state)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if h.Timeout != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, h.Path)
	if len(h.Args) > 0 {
		cmd.Args = h.Args
	} else {
		cmd.Args = []string{h.Path}
	}
	cmd.Env = h.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	// A hook past its timeout is killed with everything it started: its own
	// process group, so that no grandchild outlives the failed hook.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return unix.Kill(-cmd.Process.Pid, unix.SIGKILL) }
	cmd.Stdin = bytes.NewReader(data)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// A hook that forks a daemon keeping stdout open must not hang rt.
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("hook %s: timed out after %ds", h.Path, *h.Timeout)
	}
	if err != nil {
		return fmt.Errorf("hook %s: %w, output: %q", h.Path, err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// Run runs hooks in order and stops at the first failure; kind names the
// list ("prestart") in errors.
func Run(kind string, hooks []specs.Hook, state specs.State) error {
	for i, h := range hooks {
		if err := runHook(h, state); err != nil {
			return fmt.Errorf("error running %s hook #%d: %w", kind, i, err)
		}
	}
	return nil
}

// RunWarn runs every hook and only logs failures, as the spec requires
// for poststop.
func RunWarn(kind string, hooks []specs.Hook, state specs.State) {
	for i, h := range hooks {
		if err := runHook(h, state); err != nil {
			logrus.Warnf("error running %s hook #%d: %v", kind, i, err)
		}
	}
}
