// Command escapeprobe plays a hostile container process for the escape
// tests (tests/integration/escape_test.go). It runs inside a container with
// CAP_SYS_PTRACE and watches its pid namespace for processes rt starts there
// (`rt exec`, a container joining the pid namespace), as fast as it can, and
// reports everything of the host it could reach through them; image says
// what the process ran at that moment: "host" (the host's rt binary),
// "memfd" (rt's sealed copy) or "other" (the container's program):
//
//	HOST-EXE pid exe        /proc/<pid>/exe is the host's rt binary (CVE-2019-5736)
//	HOST-FD pid fd target image   an fd from which the host's marker file is reachable
//	HOST-DIR pid link image       /proc/<pid>/{cwd,root} reaches the host's marker file
//	SEEN pid exe            a process it inspected (for the test's log)
//
// Usage: escapeprobe OUT HOST-EXE-DEV:INO HOST-MARKER
//
// OUT is a file in the container; HOST-EXE-DEV:INO identify the rt binary on
// the host; HOST-MARKER is the absolute host path of a file the container
// cannot see. The probe only looks: it never writes through what it finds.
//
// New pids are predicted from /proc/sys/kernel/ns_last_pid, so the probe
// opens /proc/<next pid>/exe in a tight loop and sees a process within
// microseconds of its clone.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// oPath is O_PATH, which package syscall does not name.
const oPath = 0x200000

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: escapeprobe OUT HOST-EXE-DEV:INO HOST-MARKER")
		os.Exit(2)
	}
	out, err := os.OpenFile(os.Args[1], os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var dev, ino uint64
	if _, err := fmt.Sscanf(os.Args[2], "%d:%d", &dev, &ino); err != nil {
		fmt.Fprintln(os.Stderr, "bad dev:ino:", err)
		os.Exit(2)
	}
	p := &probe{out: out, exeDev: dev, exeIno: ino,
		// Enough ".." to reach the host's root from any directory on it.
		marker: strings.Repeat("../", 32) + strings.TrimPrefix(os.Args[3], "/"),
		told:   map[string]bool{}}
	p.say("READY %d", os.Getpid())
	p.watch()
}

type probe struct {
	out            *os.File
	exeDev, exeIno uint64
	marker         string
	told           map[string]bool
}

func (p *probe) say(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	if p.told[line] {
		return
	}
	p.told[line] = true
	p.out.WriteString(line + "\n")
}

func lastPid() int {
	b, err := os.ReadFile("/proc/sys/kernel/ns_last_pid")
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

func (p *probe) watch() {
	next := lastPid() + 1
	for spins := 0; ; spins++ {
		if p.inspect(next) {
			next++
			continue
		}
		// The process may have come and gone between two looks.
		if spins%256 == 0 {
			if last := lastPid(); last >= next {
				for pid := next; pid <= last; pid++ {
					p.inspect(pid)
				}
				next = last + 1
			}
		}
		if spins%65536 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
}

// inspect looks at pid for as long as it runs rt (the host's binary or a
// copy of it); it returns false if pid does not exist.
func (p *probe) inspect(pid int) bool {
	dir := "/proc/" + strconv.Itoa(pid)
	fd, err := syscall.Open(dir+"/exe", oPath|syscall.O_CLOEXEC, 0)
	if err != nil {
		if err == syscall.ENOENT || err == syscall.ESRCH {
			_, serr := os.Stat(dir)
			return serr == nil
		}
		// EACCES and the like: the process exists but hides its image.
		return true
	}
	for round := 0; round < 10000; round++ {
		if round > 0 {
			if fd, err = syscall.Open(dir+"/exe", oPath|syscall.O_CLOEXEC, 0); err != nil {
				return true
			}
		}
		var st syscall.Stat_t
		serr := syscall.Fstat(fd, &st)
		syscall.Close(fd)
		exe, _ := os.Readlink(dir + "/exe")
		if serr == nil && st.Dev == p.exeDev && st.Ino == p.exeIno {
			p.say("HOST-EXE %d %s", pid, exe)
		}
		p.say("SEEN %d %s", pid, exe)
		image := "other"
		switch {
		case serr == nil && st.Dev == p.exeDev && st.Ino == p.exeIno:
			image = "host"
		case strings.HasPrefix(exe, "/memfd:"):
			image = "memfd"
		}
		p.checkFds(pid, dir, image)
		for _, l := range []string{"cwd", "root"} {
			if p.reaches(dir + "/" + l) {
				p.say("HOST-DIR %d %s %s", pid, l, image)
			}
		}
		// Once the process runs the container's own program, rt is done with it.
		if serr == nil && image == "other" {
			return true
		}
	}
	return true
}

func (p *probe) checkFds(pid int, dir, image string) {
	d, err := os.Open(dir + "/fd")
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	for _, n := range names {
		link := dir + "/fd/" + n
		if p.reaches(link) {
			target, _ := os.Readlink(link)
			p.say("HOST-FD %d %s %s %s", pid, n, target, image)
		}
	}
}

// reaches reports whether the host's marker can be found from the directory
// a /proc magic link points to.
func (p *probe) reaches(link string) bool {
	fd, err := syscall.Open(link, oPath|syscall.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		return false
	}
	m, err := syscall.Openat(fd, p.marker, oPath|syscall.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	syscall.Close(m)
	return true
}
