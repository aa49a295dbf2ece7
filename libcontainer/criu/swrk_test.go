package criu

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/criu/criurpc"
)

// The test binary doubles as a fake `criu swrk 3`: fakeEnv names the
// behaviour, one of the fakes below.
const fakeEnv = "RT_TEST_FAKE_CRIU"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeEnv); mode != "" {
		os.Exit(fakeCriu(mode))
	}
	os.Exit(m.Run())
}

// fakeCriu serves requests on fd 3 the way the mode says, and returns the exit status.
func fakeCriu(mode string) int {
	if len(os.Args) != 3 || os.Args[1] != "swrk" || os.Args[2] != "3" {
		fmt.Fprintln(os.Stderr, "fake criu: want swrk 3, got", os.Args[1:])
		return 2
	}
	sk := 3
	// A request that cannot be read is an empty one (type EMPTY).
	recv := func() *criurpc.Req {
		buf := make([]byte, maxMessage)
		req := &criurpc.Req{}
		if n, err := unix.Read(sk, buf); err == nil && n > 0 {
			req.Unmarshal(buf[:n])
		}
		return req
	}
	send := func(resp *criurpc.Resp, fds ...int) {
		var oob []byte
		if len(fds) > 0 {
			oob = unix.UnixRights(fds...)
		}
		unix.Sendmsg(sk, resp.Marshal(), oob, nil, 0)
	}
	ok := func(t criurpc.ReqType) *criurpc.Resp { return &criurpc.Resp{Type: t, Success: true} }
	version := func(major, minor, sub int32) *criurpc.Resp {
		r := ok(criurpc.ReqVersion)
		r.Version = &criurpc.Version{Major: major, Minor: minor, Sublevel: sub}
		return r
	}

	switch mode {
	case "crash":
		fmt.Fprintln(os.Stderr, "Warn  (criu/kerndat.c:1): something harmless")
		fmt.Fprintln(os.Stderr, "Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable")
		return 1
	case "healthy", "old", "check-fails":
		req := recv()
		switch req.Type {
		case criurpc.ReqVersion:
			if mode == "old" {
				send(version(3, 11, 0))
			} else {
				send(version(4, 1, 1))
			}
		case criurpc.ReqCheck:
			if mode == "check-fails" {
				// The log goes where the client's images dir fd points.
				dir := fmt.Sprintf("/proc/%d/fd/%d", os.Getppid(), req.Opts.ImagesDirFd)
				log := "(00.001) Warn: fine\n(00.002) Error (criu/cr-check.c:1): Dirty tracking is OFF\n"
				os.WriteFile(filepath.Join(dir, req.Opts.LogFile), []byte(log), 0o600)
				r := ok(criurpc.ReqCheck)
				r.Success = false
				send(r)
				return 0
			}
			send(ok(criurpc.ReqCheck))
		case criurpc.ReqFeatureCheck:
			r := ok(criurpc.ReqFeatureCheck)
			r.Features = &criurpc.Features{MemTrack: false, LazyPages: req.Features.LazyPages}
			send(r)
		}
		return 0
	case "notify":
		// A dump with two notifications, the second carrying a pipe, as
		// orphan-pts-master carries a pty master.
		req := recv()
		for _, script := range []string{"post-dump", "orphan-pts-master"} {
			n := ok(criurpc.ReqNotify)
			n.Notify = &criurpc.Notify{Script: script, Pid: 42}
			if script == "orphan-pts-master" {
				var p [2]int
				unix.Pipe2(p[:], unix.O_CLOEXEC)
				unix.Write(p[1], []byte("hello"))
				send(n, p[0])
			} else {
				send(n)
			}
			ack := recv()
			if ack.Type != criurpc.ReqNotify || !ack.NotifySuccess {
				// Undo and report, as CRIU does.
				r := ok(req.Type)
				r.Success = false
				r.CrErrmsg = "notification " + script + " refused"
				send(r)
				return 1
			}
		}
		send(ok(req.Type))
		return 0
	case "fails":
		recv()
		r := ok(criurpc.ReqDump)
		r.Success = false
		r.CrErrno = int32(unix.EBUSY)
		r.CrErrmsg = "Can't dump task"
		send(r)
		return 1
	case "wrong-type":
		recv()
		send(ok(criurpc.ReqRestore))
		return 0
	case "silent":
		recv()
		time.Sleep(time.Minute)
		return 0
	case "exits":
		recv()
		return 3
	}
	return 2
}

func useFake(t *testing.T, mode string) string {
	t.Setenv(fakeEnv, mode)
	return os.Args[0]
}

func dumpReq() *criurpc.Req {
	return &criurpc.Req{Type: criurpc.ReqDump, Opts: &criurpc.Opts{ImagesDirFd: -1}}
}

func TestProbe(t *testing.T) {
	tests := []struct {
		mode    string
		want    *criurpc.Features
		wantErr string
	}{
		{mode: "healthy"},
		{mode: "healthy", want: &criurpc.Features{MemTrack: true, LazyPages: true}},
		{mode: "old", wantErr: "CRIU 3.11 (" + os.Args[0] + ") is too old: checkpoint/restore needs 3.16 or newer"},
		{mode: "check-fails", wantErr: "cannot work on this host: criu check: (00.002) Error (criu/cr-check.c:1): Dirty tracking is OFF"},
		{mode: "crash", wantErr: "Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			info, err := Probe(useFake(t, tt.mode), tt.want)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := info.Version.String(); got != "4.1.1" {
				t.Errorf("version %s, want 4.1.1", got)
			}
			if tt.want == nil {
				if info.Features != nil {
					t.Errorf("features %v, want none asked", info.Features)
				}
				return
			}
			if info.Features.MemTrack || !info.Features.LazyPages {
				t.Errorf("features %v, want mem_track false, lazy_pages true", info.Features)
			}
		})
	}
}

func TestProbeMissingBinary(t *testing.T) {
	for _, path := range []string{"/nonexistent/criu", "rt-no-such-criu"} {
		_, err := Probe(path, nil)
		if err == nil || !strings.Contains(err.Error(), "--criu names the binary") {
			t.Errorf("Probe(%s) = %v, want an error pointing at --criu", path, err)
		}
	}
}

func TestRequest(t *testing.T) {
	tests := []struct {
		mode      string
		refuse    string // a notification the handler fails
		timeout   time.Duration
		wantErr   string
		wantNotes []string
		wantExit  string // Close's error
	}{
		{mode: "notify", wantNotes: []string{"post-dump 42", "orphan-pts-master 42 hello"}},
		{mode: "notify", refuse: "orphan-pts-master", wantErr: "criu orphan-pts-master notification: refused",
			wantNotes: []string{"post-dump 42", "orphan-pts-master 42 hello"}, wantExit: "exit status 1"},
		{mode: "fails", wantErr: "criu dump failed: Can't dump task (device or resource busy)", wantExit: "exit status 1"},
		{mode: "wrong-type", wantErr: "reply of type RESTORE to a DUMP request"},
		{mode: "exits", wantErr: "criu: exit status 3", wantExit: "exit status 3"},
		{mode: "silent", timeout: 200 * time.Millisecond, wantErr: "no reply within 200ms", wantExit: "killed by signal killed"},
	}
	for _, tt := range tests {
		t.Run(tt.mode+tt.refuse, func(t *testing.T) {
			s, err := Start(Options{Path: useFake(t, tt.mode), Timeout: tt.timeout})
			if err != nil {
				t.Fatal(err)
			}
			var notes []string
			_, err = s.Request(dumpReq(), func(n criurpc.Notify, fds []int) error {
				note := fmt.Sprintf("%s %d", n.Script, n.Pid)
				for _, fd := range fds {
					buf := make([]byte, 16)
					k, _ := unix.Read(fd, buf)
					note += " " + string(buf[:k])
				}
				notes = append(notes, note)
				if n.Script == tt.refuse {
					return errors.New("refused")
				}
				return nil
			})
			exitErr := s.Close()
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if !reflect.DeepEqual(notes, tt.wantNotes) {
				t.Errorf("notifications %q, want %q", notes, tt.wantNotes)
			}
			if tt.wantExit == "" && exitErr != nil || tt.wantExit != "" && (exitErr == nil || !strings.Contains(exitErr.Error(), tt.wantExit)) {
				t.Errorf("Close() = %v, want %q", exitErr, tt.wantExit)
			}
		})
	}
}

// The CRIU process gets the socket at 3, the extra files from 4, and no other fd of ours.
func TestStartFds(t *testing.T) {
	t.Setenv(fakeEnv, "")
	marker, err := os.CreateTemp(t.TempDir(), "extra")
	if err != nil {
		t.Fatal(err)
	}
	defer marker.Close()
	// A shell in criu's place lists its fds.
	script := filepath.Join(t.TempDir(), "criu")
	out := filepath.Join(t.TempDir(), "fds")
	os.WriteFile(script, []byte("#!/bin/sh\nreadlink /proc/self/fd/4 > "+out+".link\nexec ls /proc/self/fd > "+out+"\n"), 0o755)
	s, err := Start(Options{Path: script, ExtraFiles: []*os.File{marker}})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// ls adds the fd it reads /proc/self/fd through, the last. Fds this
	// test was started with and that lack close-on-exec pass through any
	// exec: they are not Start's.
	var fds []string
	for _, f := range strings.Fields(string(data)) {
		fd, _ := strconv.Atoi(f)
		if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); fd <= 4 || err != nil || flags&unix.FD_CLOEXEC != 0 {
			fds = append(fds, f)
		}
	}
	if want := []string{"0", "1", "2", "3", "4"}; !reflect.DeepEqual(fds[:len(fds)-1], want) {
		t.Errorf("criu's fds %v, want %v and ls's own", fds, want)
	}
	if link, _ := os.ReadFile(out + ".link"); strings.TrimSpace(string(link)) != marker.Name() {
		t.Errorf("fd 4 is %q, want %s", link, marker.Name())
	}
}

func TestErrorLines(t *testing.T) {
	tests := []struct {
		log  string
		max  int
		want string
	}{
		{"", 3, ""},
		{"a\n\nb\n", 3, "a; b"},
		{"x\nError (a): 1\ny\nError (b): 2\nError (c): 3\n", 2, "Error (b): 2; Error (c): 3"},
	}
	for _, tt := range tests {
		if got := ErrorLines(tt.log, tt.max); got != tt.want {
			t.Errorf("ErrorLines(%q, %d) = %q, want %q", tt.log, tt.max, got, tt.want)
		}
	}
}

func TestVersionLess(t *testing.T) {
	tests := []struct {
		a, b Version
		want bool
	}{
		{Version{Major: 3, Minor: 15}, Version{Major: 3, Minor: 16}, true},
		{Version{Major: 4, Minor: 0}, Version{Major: 3, Minor: 16}, false},
		{Version{Major: 3, Minor: 16}, Version{Major: 3, Minor: 16}, false},
		{Version{Major: 3, Minor: 16}, Version{Major: 3, Minor: 16, GitID: "abc"}, true},
		{Version{Major: 4, Minor: 1, Sublevel: 1}, Version{Major: 4, Minor: 1, Sublevel: 2}, true},
	}
	for _, tt := range tests {
		if got := tt.a.Less(tt.b); got != tt.want {
			t.Errorf("%s < %s = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
