package initproc

import (
	"fmt"
	"os"
	"strconv"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/initproto"
	"github.com/rtproject/rt/libcontainer/rootfs"
)

// setupConsole creates a pty inside the container, sends its master over the
// console socket (as runc does, for containerd and conmon), and makes its
// slave this process's stdio and controlling terminal.
func setupConsole(cfg *initproto.Config, mount bool) error {
	if err := openConsoleOnStdio(cfg, mount); err != nil {
		return err
	}
	if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("set controlling terminal: %w", err)
	}
	return nil
}

// openConsoleOnStdio is setupConsole but for the controlling terminal,
// which the fast path of `rt exec` sets in its forked child, a new
// session's leader.
func openConsoleOnStdio(cfg *initproto.Config, mount bool) error {
	consoleFd := cfg.ConsoleFd
	if consoleFd < 0 {
		return fmt.Errorf("process.terminal is set but no --console-socket was given")
	}
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /dev/ptmx: %w", err)
	}
	defer master.Close()
	var unlock int32
	if err := ioctlPtr(master.Fd(), unix.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		return fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetUint32(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		return fmt.Errorf("get pty number: %w", err)
	}
	slavePath := "/dev/pts/" + strconv.Itoa(int(n))
	if err := configurePty(int(master.Fd()), cfg.Process.ConsoleSize, cfg.ConsoleToRT); err != nil {
		return err
	}
	if mount {
		if err := rootfs.MountConsole(slavePath); err != nil {
			return err
		}
	}
	name := []byte("/dev/ptmx")
	if err := unix.Sendmsg(consoleFd, name, unix.UnixRights(int(master.Fd())), nil, 0); err != nil {
		return fmt.Errorf("send pty master over console socket: %w", err)
	}
	unix.Close(consoleFd)
	slave, err := os.OpenFile(slavePath, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", slavePath, err)
	}
	defer slave.Close()
	for i := 0; i < 3; i++ {
		if err := unix.Dup3(int(slave.Fd()), i, 0); err != nil {
			return fmt.Errorf("dup pty to fd %d: %w", i, err)
		}
	}
	return nil
}

// configurePty sets the new pty's size from process.consoleSize and, when
// rt itself relays it (a foreground run or exec), turns off its output
// translation of "\n" into "\r\n": the output then compares exactly with
// a pipe's, as with runc. Both happen before the process can write.
func configurePty(master int, size *specs.Box, toRT bool) error {
	if size != nil && size.Height != 0 && size.Width != 0 {
		ws := &unix.Winsize{Row: uint16(size.Height), Col: uint16(size.Width)}
		if err := unix.IoctlSetWinsize(master, unix.TIOCSWINSZ, ws); err != nil {
			return fmt.Errorf("process.consoleSize: set the terminal size: %w", err)
		}
	}
	if !toRT {
		return nil
	}
	tio, err := unix.IoctlGetTermios(master, unix.TCGETS)
	if err != nil {
		return fmt.Errorf("pty: get termios: %w", err)
	}
	tio.Oflag &^= unix.ONLCR
	if err := unix.IoctlSetTermios(master, unix.TCSETS, tio); err != nil {
		return fmt.Errorf("pty: clear ONLCR: %w", err)
	}
	return nil
}

func ioctlPtr(fd uintptr, req uint, arg unsafe.Pointer) error {
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, fd, uintptr(req), uintptr(arg)); e != 0 {
		return e
	}
	return nil
}
