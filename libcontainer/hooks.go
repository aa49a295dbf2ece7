package libcontainer

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

// runHooks runs hooks in order and stops at the first failure.
func runHooks(kind string, hooks []specs.Hook, state specs.State) error {
	for i, h := range hooks {
		if err := runHook(h, state); err != nil {
			return fmt.Errorf("%s hook #%d: %w", kind, i, err)
		}
	}
	return nil
}

// runHooksWarn runs every hook and only logs failures, as the spec requires
// for poststart and poststop.
func runHooksWarn(kind string, hooks []specs.Hook, state specs.State) {
	for i, h := range hooks {
		if err := runHook(h, state); err != nil {
			logrus.Warnf("%s hook #%d: %v", kind, i, err)
		}
	}
}
