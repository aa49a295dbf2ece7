package procfs

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestReadAndWriteSelf(t *testing.T) {
	cur, err := ReadSelf("oom_score_adj")
	if err != nil {
		t.Fatal(err)
	}
	// Writing the current value back is allowed to anyone.
	if err := WriteSelf("oom_score_adj", []byte(strings.TrimSpace(string(cur)))); err != nil {
		t.Fatal(err)
	}
	status, err := ReadPid(os.Getpid(), "status")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(status), "\nPid:\t"+strconv.Itoa(os.Getpid())+"\n") {
		t.Errorf("/proc/<pid>/status of another process:\n%s", status)
	}
	if _, err := ReadSelf("no-such-file"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want not-exist", err)
	}
}

func TestNoEscapeFromProc(t *testing.T) {
	for _, name := range []string{"../etc/passwd", "self/cwd/etc/passwd", "/etc/passwd", "self/root"} {
		if _, err := read(root, name); err == nil {
			t.Errorf("%s: read, want an error", name)
		}
	}
	for _, name := range []string{"self/../../etc/passwd", "sys/../../etc/passwd"} {
		if err := Write(name, []byte("x")); err == nil {
			t.Errorf("Write(%s): want an error", name)
		}
	}
}
