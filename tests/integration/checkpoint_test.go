package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

var (
	criuOnce   sync.Once
	criuPath   string
	criuReason string
)

// needCRIU returns a CRIU 4.x that works on this host, which
// tests/scripts/get-criu.sh fetches once and caches outside the repository,
// or skips the test saying why there is none.
func needCRIU(t *testing.T) string {
	t.Helper()
	criuOnce.Do(func() {
		cmd := exec.Command("../scripts/get-criu.sh")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			criuReason = fmt.Sprintf("no CRIU that works on this host (tests/scripts/get-criu.sh: %v: %s)", err, strings.TrimSpace(stderr.String()))
			return
		}
		criuPath = strings.TrimSpace(string(out))
	})
	if criuPath == "" {
		t.Skip(criuReason)
	}
	return criuPath
}

// ctrIO is a container's stdio as pipes, the only thing CRIU can hand to a
// restored process tree anew (a file of the host is outside its mounts).
// The test keeps both ends: the same pipes serve the restore.
type ctrIO struct {
	inR, inW, outR, outW, errR, errW *os.File
	lines                            chan string
	last                             string // the last line read
}

func newCtrIO(t *testing.T) *ctrIO {
	t.Helper()
	var p [3][2]*os.File
	for i := range p {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		p[i] = [2]*os.File{r, w}
	}
	io := &ctrIO{inR: p[0][0], inW: p[0][1], outR: p[1][0], outW: p[1][1], errR: p[2][0], errW: p[2][1], lines: make(chan string, 1000)}
	t.Cleanup(func() {
		for _, f := range []*os.File{io.inR, io.inW, io.outR, io.outW, io.errR, io.errW} {
			f.Close()
		}
	})
	go func() {
		sc := bufio.NewScanner(io.outR)
		for sc.Scan() {
			io.lines <- sc.Text()
		}
		close(io.lines)
	}()
	return io
}

// next returns the container's next line of output.
func (io *ctrIO) next(t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-io.lines:
		if !ok {
			t.Fatal("container output closed")
		}
		io.last = l
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("no output from the container within 10s")
	}
	return ""
}

// drain returns the last line the container printed (read before or now),
// once it printed nothing for a while.
func (io *ctrIO) drain(t *testing.T) string {
	t.Helper()
	for {
		select {
		case l, ok := <-io.lines:
			if !ok {
				return io.last
			}
			io.last = l
		case <-time.After(700 * time.Millisecond):
			return io.last
		}
	}
}

// rtCR runs rt with --criu and the container's stdio as its own, as an
// engine runs run -d and restore -d. rt's messages go to a log as well.
func (b *bundle) rtCR(io *ctrIO, args ...string) result {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rtTimeout)
	defer cancel()
	log := filepath.Join(b.Dir, "rt.log")
	os.Remove(log)
	cmd := exec.CommandContext(ctx, rtBinary, append([]string{"--root", b.Root, "--log", log, "--criu", criuPath}, args...)...)
	if io != nil {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = io.inR, io.outW, io.errW
	}
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	msg, _ := os.ReadFile(log)
	if ctx.Err() != nil {
		msg = append(msg, "\n(killed after "+rtTimeout.String()+")"...)
	}
	return result{Stderr: string(msg), Code: code}
}

func (b *bundle) mustCR(io *ctrIO, args ...string) {
	b.t.Helper()
	if r := b.rtCR(io, args...); r.Code != 0 {
		b.t.Fatalf("rt %s: %s", strings.Join(args, " "), r)
	}
}

// counter is a container printing 1, 2, 3, … on stdout, a line every 100ms.
func counter(t *testing.T) *bundle {
	return newBundle(t, "sh", "-c", "i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done")
}

// checkpointedCounter runs a counter with pipes for stdio, checkpoints it
// (which ends it) once it counts, and returns the images and the last count.
func checkpointedCounter(t *testing.T) (b *bundle, io *ctrIO, images string, last int) {
	t.Helper()
	b = counter(t)
	io = newCtrIO(t)
	b.write()
	b.mustCR(io, "run", "-d", "--bundle", b.Dir, b.ID)
	expectCount(t, io, 1)
	images = filepath.Join(b.Dir, "images")
	b.mustCR(nil, "checkpoint", "--image-path", images, b.ID)
	last, _ = strconv.Atoi(io.drain(t))
	return b, io, images, last
}

// expectCount reads the counter's next line and checks it is want.
func expectCount(t *testing.T, io *ctrIO, want int) {
	t.Helper()
	if got := io.next(t); got != strconv.Itoa(want) {
		t.Fatalf("counter printed %q, want %d", got, want)
	}
}

// expectGone checks that a checkpoint ended the container: no state, no
// process, no cgroup, no mount.
func expectGone(t *testing.T, b *bundle, pid int) {
	t.Helper()
	if r := b.rt("state", b.ID); r.Code == 0 {
		t.Fatalf("state after checkpoint: %s, want no such container", r)
	}
	assertNoLeaks(t, b, pid)
}

// TestCheckpointRestore: a counting container is checkpointed (and so
// removed), restored from the images, and counts on from where it stopped;
// it is then a container like any other: state, exec, kill, delete.
func TestCheckpointRestore(t *testing.T) {
	needCRIU(t)
	b := counter(t)
	io := newCtrIO(t)
	// No input: the host's /dev/null, as engines give it. The init puts the
	// container's own in its place; the host's would keep CRIU from saving.
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	io.inR.Close()
	io.inR = devnull
	b.write()
	b.mustCR(io, "run", "-d", "--bundle", b.Dir, b.ID)
	expectCount(t, io, 1)
	expectCount(t, io, 2)
	pid := b.pid()

	images, work := filepath.Join(b.Dir, "images"), filepath.Join(b.Dir, "work")
	b.mustCR(nil, "checkpoint", "--image-path", images, "--work-path", work, b.ID)
	expectGone(t, b, pid)
	last, _ := strconv.Atoi(io.drain(t))
	if last < 2 {
		t.Fatalf("last count before the checkpoint %d", last)
	}
	if _, err := os.Stat(filepath.Join(work, "dump.log")); err != nil {
		t.Errorf("no CRIU log in --work-path: %v", err)
	}

	b.mustCR(io, "restore", "-d", "--image-path", images, "--work-path", work, "--bundle", b.Dir, b.ID)
	expectCount(t, io, last+1)
	expectCount(t, io, last+2)
	if st := b.status(); st != "running" {
		t.Fatalf("restored container is %s", st)
	}
	rpid := b.pid()
	// The restored init is the counting shell itself: no rt code in the tree.
	if cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", rpid)); !strings.HasPrefix(string(cmd), "sh\x00-c\x00i=0") {
		t.Errorf("restored init runs %q", cmd)
	}
	for _, ctrl := range []string{"memory", "pids", "freezer"} {
		if got, want := procCgroup(t, rpid, ctrl), filepath.Join(ownCgroup(ctrl), b.Spec.Linux.CgroupsPath); got != want {
			t.Errorf("restored init in %s cgroup %s, want %s", ctrl, got, want)
		}
	}
	if r := b.mustRT("exec", b.ID, "sh", "-c", "echo $$ $(cat /proc/1/comm)"); strings.TrimSpace(r.Stdout) == "" || !strings.HasSuffix(strings.TrimSpace(r.Stdout), " sh") {
		t.Errorf("exec in the restored container: %q", r.Stdout)
	}
	b.mustRT("kill", b.ID, "KILL")
	b.waitStatus("stopped")
	b.mustRT("delete", b.ID)
	assertNoLeaks(t, b, rpid)
}

// TestStdioDevNull: a /dev/null of the host as stdio becomes the container's
// own /dev/null (on the container's mount: in a user namespace that is a
// bind of the host's node); other stdio stay as they are.
func TestStdioDevNull(t *testing.T) {
	// fdinfo's mnt_id of fd 0, 1, 2 against that of /dev/null opened inside.
	script := `exec 3</dev/null; own=$(grep mnt_id /proc/self/fdinfo/3)
for i in 0 1 2; do if [ "$(grep mnt_id /proc/self/fdinfo/$i)" = "$own" ]; then echo $i:own; else echo $i:other; fi; done`
	for _, userns := range []bool{false, true} {
		b := newBundle(t, "sh", "-c", script)
		if userns {
			withUserNS(b)
		}
		b.write()
		if r := runRT(b.Root, nil, "run", "--bundle", b.Dir, b.ID); r.Code != 0 || r.Stdout != "0:own\n1:other\n2:other\n" {
			t.Errorf("user namespace %v: stdin from the host's /dev/null, stdout and stderr files: %s", userns, r)
		}
	}
}

// TestCheckpointLeaveRunning: --leave-running saves the container and keeps it going.
func TestCheckpointLeaveRunning(t *testing.T) {
	needCRIU(t)
	b := counter(t)
	io := newCtrIO(t)
	b.write()
	b.mustCR(io, "run", "-d", "--bundle", b.Dir, b.ID)
	expectCount(t, io, 1)
	pid := b.pid()
	images := filepath.Join(b.Dir, "images")
	b.mustCR(nil, "checkpoint", "--leave-running", "--image-path", images, b.ID)
	if st := b.status(); st != "running" || b.pid() != pid {
		t.Fatalf("after checkpoint --leave-running: %s, pid %d (was %d)", st, b.pid(), pid)
	}
	// Still counting, one by one.
	first, _ := strconv.Atoi(io.next(t))
	expectCount(t, io, first+1)
	expectCount(t, io, first+2)
	if _, err := os.Stat(filepath.Join(images, "inventory.img")); err != nil {
		t.Errorf("no images: %v", err)
	}
	b.remove()
}

// TestRestoreForeground: without --detach, restore waits for the restored
// container like run, passes its exit status on, and deletes it.
func TestRestoreForeground(t *testing.T) {
	criu := needCRIU(t)
	b, io, images, last := checkpointedCounter(t)

	// rt's stdio, the container's pipes, take the place of those it had.
	cmd := exec.Command(rtBinary, "--root", b.Root, "--criu", criu, "restore", "--image-path", images, "--bundle", b.Dir, b.ID)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = io.inR, io.outW, io.errW
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	expectCount(t, io, last+1)
	b.waitStatus("running")
	b.mustRT("kill", b.ID, "KILL")
	select {
	case <-done:
		if code := cmd.ProcessState.ExitCode(); code != 137 {
			t.Fatalf("foreground restore of a killed container exited %d, want 137", code)
		}
	case <-time.After(rtTimeout):
		t.Fatal("the foreground restore did not end with its container")
	}
	if r := b.rt("state", b.ID); r.Code == 0 {
		t.Errorf("the container is still there after the foreground restore ended: %s", r)
	}
	assertNoLeaks(t, b, 0)
}

// TestRestoreNewID: a checkpoint restores under another id (and cgroup), once
// the original is gone.
func TestRestoreNewID(t *testing.T) {
	needCRIU(t)
	b, io, images, last := checkpointedCounter(t)

	oldID := b.ID
	b.ID += "-new"
	b.Spec.Linux.CgroupsPath += "-new"
	b.write()
	b.mustCR(io, "restore", "-d", "--image-path", images, "--bundle", b.Dir, b.ID)
	expectCount(t, io, last+1)
	if r := b.rt("state", oldID); r.Code == 0 {
		t.Errorf("old id %s exists after restoring as %s", oldID, b.ID)
	}
	rpid := b.pid()
	if got, want := procCgroup(t, rpid, "pids"), filepath.Join(ownCgroup("pids"), b.Spec.Linux.CgroupsPath); got != want {
		t.Errorf("restored init in pids cgroup %s, want %s", got, want)
	}
	b.remove()
}

// TestRestoreFailure: a restore CRIU cannot finish leaves nothing behind (no
// state, cgroup, mount or process), and the images still serve a next try.
func TestRestoreFailure(t *testing.T) {
	needCRIU(t)
	b, io, images, last := checkpointedCounter(t)

	// The shell's binary is gone from the rootfs: CRIU cannot map it again.
	bin := b.rootfsFile("bin/busybox")
	if err := os.Rename(bin, bin+".away"); err != nil {
		t.Fatal(err)
	}
	r := b.rtCR(io, "restore", "-d", "--image-path", images, "--bundle", b.Dir, b.ID)
	if r.Code == 0 || !strings.Contains(r.Stderr, "criu restore failed") {
		t.Fatalf("restore without the binary: %s", r)
	}
	assertNoLeaks(t, b, 0)
	if _, err := os.Stat(filepath.Join(b.Root, b.ID)); err == nil {
		t.Fatal("state directory left")
	}

	os.Rename(bin+".away", bin)
	b.mustCR(io, "restore", "-d", "--image-path", images, "--bundle", b.Dir, b.ID)
	expectCount(t, io, last+1)
	b.remove()
}

// TestRestoreKilled: rt killed while CRIU restores leaves what delete --force
// removes entirely, and the rootfs bound for CRIU survives that delete.
func TestRestoreKilled(t *testing.T) {
	criu := needCRIU(t)
	b, _, images, _ := checkpointedCounter(t)

	// A CRIU that dawdles once the restore has bound the rootfs for it,
	// without a child (which a kill of the cgroup might miss): bash's read
	// times out on a fifo nobody writes.
	rootBind := filepath.Join(b.Root, b.ID, "criu-root")
	slow, fifo := filepath.Join(b.Dir, "slow-criu"), filepath.Join(b.Dir, "never")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("#!/bin/bash\n[ -d %q ] && read -t 5 <>%q\nexec %q \"$@\"\n", rootBind, fifo, criu)
	if err := os.WriteFile(slow, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	g := b.startRT(nil, "--criu", slow, "restore", "-d", "--image-path", images, "--bundle", b.Dir, b.ID)
	deadline := time.Now().Add(30 * time.Second)
	for !mounted(rootBind) {
		if time.Now().After(deadline) {
			g.cmd.Process.Kill()
			t.Fatalf("the restore never bound the rootfs: %s", g.wait())
		}
		time.Sleep(20 * time.Millisecond)
	}
	g.cmd.Process.Kill()
	g.wait()
	b.mustRT("delete", "--force", b.ID)
	if mounted(rootBind) {
		t.Error("the rootfs is still bound for CRIU")
	}
	if _, err := os.Stat(b.rootfsFile("bin/busybox")); err != nil {
		t.Fatalf("the rootfs lost its files: %v", err)
	}
	assertNoLeaks(t, b, 0)
}

// mounted reports whether something is mounted at path in our mount namespace.
func mounted(path string) bool {
	data, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == path {
			return true
		}
	}
	return false
}

// TestCheckpointTerminal: a container with a terminal (its master sent over
// --console-socket) is restored with a new terminal, sent over the new
// console socket, and the shell in it answers there.
func TestCheckpointTerminal(t *testing.T) {
	needCRIU(t)
	b := newBundle(t, "sh", "-c", "n=0; while read l; do n=$((n+1)); echo \"reply $n $l\"; done")
	b.Spec.Process.Terminal = true
	b.write()
	sock := filepath.Join(b.Dir, "console.sock")
	masters := listenConsole(t, sock)
	b.mustCR(nil, "run", "-d", "--console-socket", sock, "--bundle", b.Dir, b.ID)
	master := <-masters
	if master == nil {
		t.Fatal("no pty master over the console socket")
	}
	master.Write([]byte("one\n"))
	if out := readUntil(master, "reply 1 one"); !strings.Contains(out, "reply 1 one") {
		t.Fatalf("before checkpoint the terminal shows %q", out)
	}
	images := filepath.Join(b.Dir, "images")
	b.mustCR(nil, "checkpoint", "--image-path", images, b.ID)
	master.Close()

	os.Remove(sock)
	masters = listenConsole(t, sock)
	b.mustCR(nil, "restore", "-d", "--console-socket", sock, "--image-path", images, "--bundle", b.Dir, b.ID)
	master = <-masters
	if master == nil {
		t.Fatal("no new pty master over the console socket after restore")
	}
	defer master.Close()
	master.Write([]byte("two\n"))
	if out := readUntil(master, "reply 2 two"); !strings.Contains(out, "reply 2 two") {
		t.Fatalf("after restore the terminal shows %q", out)
	}
	b.remove()
}

// TestCheckpointTCPEstablished: the container serves a TCP connection from a
// client outside it (in the same network namespace, which the container
// joins by path); with --tcp-established the connection survives checkpoint
// and restore, and the server's state with it.
func TestCheckpointTCPEstablished(t *testing.T) {
	needCRIU(t)
	ns := newNetns(t)
	b := newBundle(t, "nc", "-l", "-p", "7000", "-e", "sh", "-c", "n=0; while read l; do n=$((n+1)); echo \"reply $n $l\"; done")
	b.setNamespace(specs.NetworkNamespace, ns)
	io := newCtrIO(t)
	b.write()
	b.mustCR(io, "run", "-d", "--bundle", b.Dir, b.ID)

	conn := dialInNetns(t, ns, "127.0.0.1:7000")
	defer conn.Close()
	rd := bufio.NewReader(conn)
	ask := func(msg, want string) {
		t.Helper()
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := conn.Write([]byte(msg + "\n")); err != nil {
			t.Fatalf("send %q: %v", msg, err)
		}
		got, err := rd.ReadString('\n')
		if err != nil || strings.TrimSpace(got) != want {
			t.Fatalf("reply to %q: %q, %v; want %q", msg, got, err, want)
		}
	}
	ask("one", "reply 1 one")

	images := filepath.Join(b.Dir, "images")
	pid := b.pid()
	if r := b.rtCR(nil, "checkpoint", "--image-path", images, b.ID); r.Code == 0 {
		t.Fatalf("checkpoint of an established connection without --tcp-established: %s, want a failure", r)
	}
	if b.status() != "running" || b.pid() != pid {
		t.Fatal("a failed checkpoint did not leave the container running")
	}
	ask("two", "reply 2 two")
	b.mustCR(nil, "checkpoint", "--tcp-established", "--image-path", images, b.ID)
	expectGone(t, b, pid)
	b.mustCR(io, "restore", "-d", "--tcp-established", "--image-path", images, "--bundle", b.Dir, b.ID)
	ask("three", "reply 3 three")
	b.remove()
}

// TestCheckpointErrors: what cannot be done is refused with the reason, and
// leaves the container as it was.
func TestCheckpointErrors(t *testing.T) {
	needCRIU(t)
	b := newBundle(t, "sleep", "100")
	b.create()
	images := filepath.Join(b.Dir, "images")
	if r := b.rtCR(nil, "checkpoint", "--image-path", images, b.ID); r.Code == 0 || !strings.Contains(r.Stderr, "created") {
		t.Errorf("checkpoint of a created container: %s", r)
	}
	b.mustRT("start", b.ID)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--pre-dump"}, "soft-dirty"},
		{[]string{"--manage-cgroups-mode", "bogus"}, "--manage-cgroups-mode"},
		{[]string{"--empty-ns", "pid"}, "--empty-ns"},
		{[]string{"--page-server", "nohostport"}, "--page-server"},
		{[]string{"--parent-path", "/abs"}, "--parent-path"},
		{[]string{"--parent-path", "missing"}, "--parent-path"},
	}
	for _, tt := range tests {
		args := append(append([]string{"checkpoint", "--image-path", images}, tt.args...), b.ID)
		r := b.rtCR(nil, args...)
		if r.Code == 0 || !strings.Contains(r.Stderr, tt.want) {
			t.Errorf("rt %s: %s, want an error about %s", strings.Join(args, " "), r, tt.want)
		}
		if st := b.status(); st != "running" {
			t.Fatalf("after rt %s: %s", strings.Join(args, " "), st)
		}
	}
	if r := runRT(b.Root, nil, "--criu", "/nonexistent/criu", "checkpoint", "--image-path", images, b.ID); r.Code == 0 || !strings.Contains(r.Stderr, "/nonexistent/criu") {
		t.Errorf("checkpoint with a missing criu: %s", r)
	}
	// Restore needs images and a free id.
	if r := b.rtCR(nil, "restore", "-d", "--image-path", filepath.Join(b.Dir, "none"), "--bundle", b.Dir, b.ID+"-x"); r.Code == 0 || !strings.Contains(r.Stderr, "--image-path") {
		t.Errorf("restore without images: %s", r)
	}
	b.remove()
}

func procCgroup(t *testing.T, pid int, controller string) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 && strings.Contains(","+parts[1]+",", ","+controller+",") {
			return parts[2]
		}
	}
	return ""
}

// ip(8) makes /run/netns, a bind mount of itself, for the first named
// namespace. When it was not there before, the last test to delete its
// namespace unmounts and removes it again: nothing is left on the host.
var netnsDir struct {
	sync.Mutex
	checked, ours bool
	live          int
}

// newNetns makes a named network namespace with loopback up, removed when the test ends.
func newNetns(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("rt-it-criu-%d-%d", os.Getpid(), seq.Add(1))
	netnsDir.Lock()
	if !netnsDir.checked {
		_, err := os.Stat("/run/netns")
		netnsDir.checked, netnsDir.ours = true, errors.Is(err, os.ErrNotExist)
	}
	out, err := exec.Command("ip", "netns", "add", name).CombinedOutput()
	if err == nil {
		netnsDir.live++
	}
	netnsDir.Unlock()
	if err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() {
		netnsDir.Lock()
		defer netnsDir.Unlock()
		exec.Command("ip", "netns", "del", name).Run()
		if netnsDir.live--; netnsDir.live == 0 && netnsDir.ours {
			unix.Unmount("/run/netns", unix.MNT_DETACH)
			os.Remove("/run/netns")
			netnsDir.checked = false
		}
	})
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v: %s", err, out)
	}
	return "/run/netns/" + name
}

// dialInNetns connects to addr from inside the network namespace at path,
// retrying while the server starts. The socket stays in that namespace.
func dialInNetns(t *testing.T, path, addr string) net.Conn {
	t.Helper()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		// This thread enters the namespace and is never unlocked, so the
		// Go runtime retires it instead of reusing it elsewhere.
		runtime.LockOSThread()
		f, err := os.Open(path)
		if err != nil {
			ch <- res{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- res{err: err}
			return
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil || time.Now().After(deadline) {
				ch <- res{c, err}
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("connect to %s in %s: %v", addr, path, r.err)
	}
	return r.c
}

// TestFeaturesCheckpoint: features says checkpoint works only with a CRIU that does.
func TestFeaturesCheckpoint(t *testing.T) {
	criu := needCRIU(t)
	tests := []struct {
		criu, enabled, info string
	}{
		{criu, "true", "4."},
		{"/nonexistent/criu", "false", "unusable: "},
	}
	for _, tt := range tests {
		r := runRT(workDir, nil, "--criu", tt.criu, "features")
		if r.Code != 0 {
			t.Fatalf("features: %s", r)
		}
		var f struct{ Annotations map[string]string }
		if err := json.Unmarshal([]byte(r.Stdout), &f); err != nil {
			t.Fatal(err)
		}
		if got := f.Annotations["org.opencontainers.runc.checkpoint.enabled"]; got != tt.enabled {
			t.Errorf("--criu %s: checkpoint.enabled %q, want %q", tt.criu, got, tt.enabled)
		}
		if got := f.Annotations["com.github.rtproject.rt.criu"]; !strings.HasPrefix(got, tt.info) {
			t.Errorf("--criu %s: rt.criu %q, want %q…", tt.criu, got, tt.info)
		}
	}
}
