package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer"
)

// inheritedFds counts the fds rt was started with beyond stdio (3, 4, … up to
// the first gap). Every fd rt opens itself is close-on-exec, and an fd that
// came through execve cannot be, so that flag tells the two apart whenever
// this runs.
var inheritedFds = func() int {
	n := 0
	for {
		flags, err := unix.FcntlInt(uintptr(3+n), unix.F_GETFD, 0)
		if err != nil || flags&unix.FD_CLOEXEC != 0 {
			return n
		}
		n++
	}
}()

// checkPreserveFds refuses to pass on more fds than rt was given: the rest
// of 3, 4, … would be rt's own (state dir, sockets), leaked into the container.
func checkPreserveFds(n int) error {
	if n < 0 {
		return errors.New("--preserve-fds: must not be negative")
	}
	if n > inheritedFds {
		return fmt.Errorf("--preserve-fds: %d fds to pass (with $LISTEN_FDS), but rt was given only %d beyond stdio", n, inheritedFds)
	}
	return nil
}

const (
	exactArgs = iota
	minArgs
	maxArgs
)

// checkArgs enforces a command's positional argument count, as runc does.
func checkArgs(ctx *cli.Context, expected, kind int) error {
	var err error
	name := ctx.Command.Name
	switch kind {
	case exactArgs:
		if ctx.NArg() != expected {
			err = fmt.Errorf("%s: %q requires exactly %d argument(s)", os.Args[0], name, expected)
		}
	case minArgs:
		if ctx.NArg() < expected {
			err = fmt.Errorf("%s: %q requires a minimum of %d argument(s)", os.Args[0], name, expected)
		}
	case maxArgs:
		if ctx.NArg() > expected {
			err = fmt.Errorf("%s: %q requires a maximum of %d argument(s)", os.Args[0], name, expected)
		}
	}
	if err != nil {
		fmt.Printf("Incorrect Usage.\n\n")
		_ = cli.ShowCommandHelp(ctx, name)
		return err
	}
	return nil
}

func newRuntime(ctx *cli.Context) (*libcontainer.Runtime, error) {
	root, err := filepath.Abs(stateRoot(ctx))
	if err != nil {
		return nil, fmt.Errorf("--root: %w", err)
	}
	return &libcontainer.Runtime{
		Root:          root,
		SystemdCgroup: ctx.GlobalBool("systemd-cgroup"),
		Rootless:      rootlessCgroups(ctx.GlobalString("rootless")),
	}, nil
}

// stateRoot is --root, or for a user other than root who did not name one,
// $XDG_RUNTIME_DIR/rt: a directory of that user's own, on a tmpfs.
func stateRoot(ctx *cli.Context) string {
	if !ctx.GlobalIsSet("root") && os.Geteuid() != 0 {
		if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
			return filepath.Join(dir, "rt")
		}
	}
	return ctx.GlobalString("root")
}

// rootlessCgroups says whether cgroups rt may not write are done without:
// "auto" means so when rt runs without root, or as root of a user namespace
// other than the initial one (whose cgroups belong to someone else).
func rootlessCgroups(flag string) bool {
	switch flag {
	case "true":
		return true
	case "false":
		return false
	}
	return os.Geteuid() != 0 || !libcontainer.InInitialUserNamespace()
}

// loadContainer parses the id argument and loads that container, locked.
func loadContainer(ctx *cli.Context) (*libcontainer.Container, error) {
	return containerArg(ctx, (*libcontainer.Runtime).Load)
}

// loadContainerSummary is loadContainer for start, kill and delete, which
// read only part of the spec (libcontainer.Runtime.LoadSummary).
func loadContainerSummary(ctx *cli.Context) (*libcontainer.Container, error) {
	return containerArg(ctx, (*libcontainer.Runtime).LoadSummary)
}

// inspectContainer is loadContainer for a command that only looks: it does
// not take the lock, so it never waits for a command in progress.
func inspectContainer(ctx *cli.Context) (*libcontainer.Container, error) {
	return containerArg(ctx, (*libcontainer.Runtime).Inspect)
}

func containerArg(ctx *cli.Context, load func(*libcontainer.Runtime, string) (*libcontainer.Container, error)) (*libcontainer.Container, error) {
	r, id, err := runtimeAndID(ctx)
	if err != nil {
		return nil, err
	}
	return load(r, id)
}

// runtimeAndID is the runtime of --root and the container id argument.
func runtimeAndID(ctx *cli.Context) (*libcontainer.Runtime, string, error) {
	id := ctx.Args().First()
	if id == "" {
		return nil, "", errors.New("container id cannot be empty")
	}
	r, err := newRuntime(ctx)
	return r, id, err
}

func printJSON(v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stdout, string(data))
	return nil
}

// exitCodeError is an error that ends rt with its own exit status (a
// cli.ExitCoder, which main honours).
type exitCodeError struct {
	err  error
	code int
}

func withExitCode(err error, code int) error { return &exitCodeError{err: err, code: code} }

func (e *exitCodeError) Error() string { return e.err.Error() }
func (e *exitCodeError) Unwrap() error { return e.err }
func (e *exitCodeError) ExitCode() int { return e.code }

// ownConsole returns the terminal a foreground run or exec wires to rt's own
// stdio: needed when the process has a terminal and no --console-socket
// receives it. nil when there is none to make.
func ownConsole(detach bool, consoleSocket string, terminal bool) (*libcontainer.Console, error) {
	if detach || consoleSocket != "" || !terminal {
		return nil, nil
	}
	return libcontainer.NewConsole()
}

// withOwnConsole creates (or restores) a container through build, giving it
// the terminal a foreground container needs when no --console-socket takes
// it (see ownConsole): build gets the connection to send the pty master over
// (nil when there is none to make), and the Console returned, attached to
// rt's stdio, is the caller's to close. On failure nothing is left.
func withOwnConsole(detach bool, consoleSocket string, terminal bool,
	build func(conn *os.File) (*libcontainer.Container, *os.Process, error),
) (*libcontainer.Container, *os.Process, *libcontainer.Console, error) {
	tty, err := ownConsole(detach, consoleSocket, terminal)
	if err != nil {
		return nil, nil, nil, err
	}
	var conn *os.File
	if tty != nil {
		conn = tty.ChildEnd()
	}
	c, proc, err := build(conn)
	if tty != nil {
		tty.CloseChildEnd()
	}
	if err != nil {
		if tty != nil {
			tty.Close()
		}
		return nil, nil, nil, err
	}
	if tty != nil {
		if err := tty.Attach(); err != nil {
			c.Delete(true)
			tty.Close()
			return nil, nil, nil, err
		}
	}
	return c, proc, tty, nil
}

// waitForeground relays signals (and terminal resizes) to proc until it
// exits, drains its terminal output, and returns its exit code.
func waitForeground(sh *libcontainer.SignalForwarder, proc *os.Process, tty *libcontainer.Console) int {
	code := sh.Forward(proc, tty)
	if tty != nil {
		tty.Wait()
	}
	return code
}
