package initproc

import (
	"fmt"
	"io"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/initproto"
)

// execInit runs in a process already inside every namespace of the
// container: it applies the process's attributes and execs.
func execInit(ch *initproto.Channel, cfg *initproto.Config) error {
	proc := cfg.Process
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("setsid: %w", err)
	}
	if proc.Terminal {
		if err := setupConsole(cfg, false); err != nil {
			return err
		}
	} else if cfg.ConsoleFd >= 0 {
		unix.Close(cfg.ConsoleFd)
	}
	armParentDeath(false)
	if err := joinMemoryCgroup(cfg); err != nil {
		return err
	}
	path, err := prepareProcess(ch, cfg)
	if err != nil {
		return err
	}
	// EOF without this message tells rt the init died before the exec.
	if err := ch.Send(initproto.Message{Type: initproto.MsgExec}); err != nil {
		return err
	}
	logrus.SetOutput(io.Discard)
	err = unix.Exec(path, proc.Args, proc.Env)
	return fmt.Errorf("exec %s: %w", proc.Args[0], err)
}
