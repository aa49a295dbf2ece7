package integration

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestDevTmpfsWithoutDevMount(t *testing.T) {
	b := newBundle(t, "sh", "-c", `awk '$5 == "/dev"' /proc/self/mountinfo; ls /dev`)
	var kept []specs.Mount
	for _, m := range b.Spec.Mounts {
		if m.Destination != "/dev" {
			kept = append(kept, m)
		}
	}
	b.Spec.Mounts = kept
	out := b.output()
	if l := mountLine(out, "/dev"); !strings.Contains(l, "- tmpfs") || !strings.Contains(l, "nosuid") {
		t.Errorf("/dev is not rt's tmpfs: %s", out)
	}
	for _, d := range []string{"null", "zero", "pts", "shm"} {
		if !strings.Contains(out, d) {
			t.Errorf("/dev lacks %s: %s", d, out)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(b.Rootfs, "dev")); len(entries) != 0 {
		t.Errorf("devices created in the image's /dev: %v", entries)
	}
}

func TestDefaultDevicesAndLinks(t *testing.T) {
	b := newBundle(t, "sh", "-c", `for d in null zero full random urandom tty; do stat -c '%n %F %t:%T %a' /dev/$d; done
for l in fd stdin stdout stderr ptmx; do echo "/dev/$l -> $(readlink /dev/$l)"; done
echo hi > /dev/null && head -c 4 /dev/zero | wc -c`)
	out := b.output()
	for _, w := range []string{
		"/dev/null character special file 1:3 666",
		"/dev/zero character special file 1:5 666",
		"/dev/full character special file 1:7 666",
		"/dev/random character special file 1:8 666",
		"/dev/urandom character special file 1:9 666",
		"/dev/tty character special file 5:0 666",
		"/dev/fd -> /proc/self/fd",
		"/dev/stdin -> /proc/self/fd/0",
		"/dev/stdout -> /proc/self/fd/1",
		"/dev/stderr -> /proc/self/fd/2",
		"/dev/ptmx -> pts/ptmx",
		"\n4\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestLinuxDevices(t *testing.T) {
	// The device cgroup denies 10:666: its node must still be made, only not opened.
	b := newBundle(t, "sh", "-c", `stat -c '%n %F %t:%T %a %u:%g' /dev/mydev /dev/myfifo /opt/extra/dev0 /dev/denied`)
	uid, gid := uint32(1000), uint32(1001)
	b.Spec.Linux.Devices = []specs.LinuxDevice{
		{Path: "/dev/mydev", Type: "c", Major: 1, Minor: 3, FileMode: fileMode(0o640), UID: &uid, GID: &gid},
		{Path: "/dev/myfifo", Type: "p", FileMode: fileMode(0o600)},
		{Path: "/opt/extra/dev0", Type: "c", Major: 1, Minor: 5, FileMode: fileMode(0o604)},
		{Path: "/dev/denied", Type: "b", Major: 8, Minor: 666, FileMode: fileMode(0o660)},
	}
	out := b.output()
	for _, w := range []string{
		"/dev/mydev character special file 1:3 640 1000:1001",
		"/dev/myfifo fifo 0:0 600 0:0",
		"/opt/extra/dev0 character special file 1:5 604 0:0",
		"/dev/denied block special file 8:29a 660 0:0",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestLinuxDevicesInvalid(t *testing.T) {
	tests := []struct {
		dev  specs.LinuxDevice
		want string
	}{
		{specs.LinuxDevice{Path: "/dev/x", Type: "z", Major: 1, Minor: 3}, "linux.devices[0].type"},
		{specs.LinuxDevice{Path: "dev/x", Type: "c", Major: 1, Minor: 3}, "linux.devices[0].path"},
	}
	for _, tc := range tests {
		b := newBundle(t)
		b.Spec.Linux.Devices = []specs.LinuxDevice{tc.dev}
		b.write()
		r := b.rt("create", "--bundle", b.Dir, b.ID)
		if r.Code == 0 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("create with %+v: %s, want an error naming %s", tc.dev, r, tc.want)
		}
		assertNoLeaks(t, b, 0)
	}
}

func fileMode(m os.FileMode) *os.FileMode { return &m }

// consoleSocket listens for the pty master rt sends with --console-socket.
func consoleSocket(t *testing.T) (string, <-chan *os.File) {
	t.Helper()
	path := filepath.Join(workDir, "console-"+sanitize(t.Name())+".sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *os.File, 1)
	go func() {
		defer l.Close()
		l.SetDeadline(time.Now().Add(20 * time.Second))
		c, err := l.AcceptUnix()
		if err != nil {
			close(ch)
			return
		}
		defer c.Close()
		oob := make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := c.ReadMsgUnix(make([]byte, 256), oob)
		if err != nil {
			close(ch)
			return
		}
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		if len(msgs) == 1 {
			if fds, err := unix.ParseUnixRights(&msgs[0]); err == nil && len(fds) == 1 {
				ch <- os.NewFile(uintptr(fds[0]), "pty-master")
			}
		}
		close(ch)
	}()
	t.Cleanup(func() { os.Remove(path) })
	return path, ch
}

func TestDevConsoleWithTerminal(t *testing.T) {
	b := newBundle(t, "sh", "-c", `stat -c '%n %F %t' /dev/console; tty; readlink /proc/self/fd/0`)
	b.Spec.Process.Terminal = true
	sock, ch := consoleSocket(t)
	b.create("--console-socket", sock)
	master := <-ch
	if master == nil {
		t.Fatal("no pty master received")
	}
	defer master.Close()
	b.mustRT("start", b.ID)
	var buf bytes.Buffer
	p := make([]byte, 4096)
	for {
		n, err := master.Read(p) // EIO once the container closed the slave
		buf.Write(p[:n])
		if err != nil {
			break
		}
	}
	b.waitStatus("stopped")
	b.remove()
	out := buf.String()
	for _, w := range []string{"/dev/console character special file 88", "/dev/pts/0\r\n/dev/pts/0"} {
		if !strings.Contains(out, w) {
			t.Errorf("terminal output lacks %q:\n%q", w, out)
		}
	}
}
