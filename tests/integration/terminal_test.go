package integration

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// receiveConsole accepts one connection on the console socket and returns
// the pty master that arrives over it with SCM_RIGHTS.
func receiveConsole(t *testing.T, ln *net.UnixListener) (*os.File, error) {
	conn, err := ln.AcceptUnix()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	buf := make([]byte, 256)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, err
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, err
	}
	return os.NewFile(uintptr(fds[0]), "pty-master"), nil
}

// readUntil reads from f until want shows up (or the deadline passes) and returns what it read.
func readUntil(f *os.File, want string) string {
	var got bytes.Buffer
	f.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1024)
	for !strings.Contains(got.String(), want) {
		n, err := f.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return got.String()
}

// TestConsoleSocket: with --console-socket, the pty master comes to the
// caller, and a shell in the container answers through it.
func TestConsoleSocket(t *testing.T) {
	sock := filepath.Join(workDir, "console.sock")
	os.Remove(sock)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type recv struct {
		f   *os.File
		err error
	}
	got := make(chan recv, 1)
	go func() {
		f, err := receiveConsole(t, ln)
		got <- recv{f, err}
	}()

	b := newBundle(t, "sh")
	b.Spec.Process.Terminal = true
	b.create("--console-socket", sock)
	rc := <-got
	if rc.err != nil || rc.f == nil {
		t.Fatalf("receive pty master: %v", rc.err)
	}
	master := rc.f
	defer master.Close()
	// The master is a real pty master: it has a pty number.
	if _, err := unix.IoctlGetUint32(int(master.Fd()), unix.TIOCGPTN); err != nil {
		t.Errorf("received fd is not a pty master: %v", err)
	}
	pid := b.pid()
	b.mustRT("start", b.ID)
	if _, err := master.Write([]byte("echo hi-$((6*7))\n")); err != nil {
		t.Fatal(err)
	}
	if out := readUntil(master, "hi-42"); !strings.Contains(out, "hi-42") {
		t.Fatalf("shell on the console: %q, want hi-42", out)
	}
	// The shell's controlling terminal is the pty.
	master.Write([]byte("tty; exit 5\n"))
	if out := readUntil(master, "/dev/pts/"); !strings.Contains(out, "/dev/pts/") {
		t.Errorf("tty inside: %q", out)
	}
	b.waitStatus("stopped")
	b.deleteAndCheck(pid)
}

// TestRunTerminal: `rt run` with process.terminal and no console socket
// relays the container's pty to its own terminal (here a pty from script(1)).
func TestRunTerminal(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) not installed")
	}
	b := newBundle(t, "sh", "-c", "tty; echo term-$((6*7)); exit 4")
	b.Spec.Process.Terminal = true
	b.write()
	cmd := exec.Command("script", "-qec", strings.Join([]string{rtBinary, "--root", b.Root, "run", "--bundle", b.Dir, b.ID}, " "), "/dev/null")
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.Output()
	ee, _ := err.(*exec.ExitError)
	if ee == nil || ee.ExitCode() != 4 {
		t.Errorf("script rt run: %v, want exit 4", err)
	}
	if !strings.Contains(string(out), "term-42") || !strings.Contains(string(out), "/dev/pts/") {
		t.Errorf("rt run's terminal output: %q", out)
	}
	assertNoLeaks(t, b, 0)
}

// TestTerminalWithoutSocket: create with process.terminal needs a console socket.
func TestTerminalWithoutSocket(t *testing.T) {
	b := newBundle(t, "true")
	b.Spec.Process.Terminal = true
	b.write()
	if r := b.rt("create", "--bundle", b.Dir, b.ID); r.Code == 0 || !strings.Contains(r.Stderr, "console-socket") {
		t.Errorf("create with a terminal and no --console-socket: %s", r)
	}
	assertNoLeaks(t, b, 0)
}

// TestTerminalOutputUntranslated: a foreground `rt run` or `rt exec` with a
// terminal passes the container's "\n" through as it is, as runc does (the
// pty's ONLCR is cleared), so its output compares exactly with a pipe's.
func TestTerminalOutputUntranslated(t *testing.T) {
	b := newBundle(t, "sh", "-c", `printf 'a\nb\n'`)
	b.Spec.Process.Terminal = true
	if r := b.run(); r.Code != 0 || r.Stdout != "a\nb\n" {
		t.Errorf("rt run with a terminal: %s, want stdout %q", r, "a\nb\n")
	}
	assertNoLeaks(t, b, 0)

	b = newBundle(t, "sleep", "100")
	pid := b.start()
	if r := b.rt("exec", "-t", b.ID, "sh", "-c", `printf 'c\nd\n'`); r.Code != 0 || r.Stdout != "c\nd\n" {
		t.Errorf("rt exec -t: %s, want stdout %q", r, "c\nd\n")
	}
	b.rt("kill", b.ID, "KILL")
	b.waitStatus("stopped")
	b.deleteAndCheck(pid)
}

// TestConsoleSize: process.consoleSize sizes the new pty, for run and exec.
func TestConsoleSize(t *testing.T) {
	b := newBundle(t, "stty", "size")
	b.Spec.Process.Terminal = true
	b.Spec.Process.ConsoleSize = &specs.Box{Height: 10, Width: 110}
	if r := b.run(); r.Code != 0 || r.Stdout != "10 110\n" {
		t.Errorf("rt run with consoleSize 10x110: %s", r)
	}
	assertNoLeaks(t, b, 0)

	b = newBundle(t, "sleep", "100")
	pid := b.start()
	proc := filepath.Join(b.Dir, "process.json")
	os.WriteFile(proc, []byte(`{"terminal": true, "consoleSize": {"height": 33, "width": 77}, "args": ["stty", "size"], "cwd": "/"}`), 0o644)
	if r := b.rt("exec", "--process", proc, b.ID); r.Code != 0 || r.Stdout != "33 77\n" {
		t.Errorf("rt exec with consoleSize 33x77: %s", r)
	}
	b.rt("kill", b.ID, "KILL")
	b.waitStatus("stopped")
	b.deleteAndCheck(pid)
}
