package mountinfo

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	table := `22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:5 master:1 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 /ctr /sys/fs/cgroup/memory ro,relatime - cgroup cgroup rw,memory
50 31 254:1 /a\040b /mnt/with\040space\134x rw - ext4 /dev/disk\040by rw,errors=remount-ro
`
	got, err := Parse(strings.NewReader(table))
	if err != nil {
		t.Fatal(err)
	}
	want := []Mount{
		{ID: 22, Parent: 1, Root: "/", Point: "/proc", Options: []string{"rw", "nosuid", "nodev", "noexec", "relatime"},
			Optional: []string{"shared:12"}, FSType: "proc", Source: "proc", SuperOptions: []string{"rw"}},
		{ID: 32, Parent: 31, Root: "/", Point: "/sys/fs/cgroup/cpu,cpuacct", Options: []string{"rw", "relatime"},
			Optional: []string{"shared:5", "master:1"}, FSType: "cgroup", Source: "cgroup", SuperOptions: []string{"rw", "cpu", "cpuacct"}},
		{ID: 35, Parent: 31, Root: "/ctr", Point: "/sys/fs/cgroup/memory", Options: []string{"ro", "relatime"},
			Optional: []string{}, FSType: "cgroup", Source: "cgroup", SuperOptions: []string{"rw", "memory"}},
		{ID: 50, Parent: 31, Root: "/a b", Point: `/mnt/with space\x`, Options: []string{"rw"},
			Optional: []string{}, FSType: "ext4", Source: "/dev/disk by", SuperOptions: []string{"rw", "errors=remount-ro"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", got, want)
	}
	if !got[0].Shared() || !got[1].Shared() || got[2].Shared() {
		t.Errorf("Shared: %v %v %v", got[0].Shared(), got[1].Shared(), got[2].Shared())
	}
	if !got[1].HasSuperOption("cpuacct") || got[1].HasSuperOption("memory") {
		t.Errorf("HasSuperOption wrong for %+v", got[1])
	}
}

func TestParseMalformed(t *testing.T) {
	for _, line := range []string{
		"22 1 0:21 / /proc rw proc proc rw",      // no separator
		"22 1 0:21 / /proc rw - proc proc",       // no super options
		"x 1 0:21 / /proc rw - proc proc rw",     // id
		"22 y 0:21 / /proc rw - proc proc rw",    // parent
		"22 1 0:21 / - /proc rw proc proc rw rw", // separator too early
	} {
		if _, err := Parse(strings.NewReader(line + "\n")); err == nil {
			t.Errorf("Parse(%q) succeeded", line)
		}
	}
}

func TestParseLongLine(t *testing.T) {
	long := "/" + strings.Repeat(`\040`, 4096)
	m, err := Parse(strings.NewReader("1 0 0:1 / " + long + " rw - tmpfs tmpfs rw\n"))
	if err != nil || len(m) != 1 || len(m[0].Point) != 4097 {
		t.Fatalf("long line: %v, %d mounts", err, len(m))
	}
}

func TestRead(t *testing.T) {
	m, err := Read()
	if err != nil || len(m) == 0 {
		t.Fatalf("Read: %d mounts, %v", len(m), err)
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		"plain": "plain", `a\040b`: "a b", `tab\011`: "tab\t", `back\134slash`: `back\slash`,
		`short\04`: `short\04`, `not\999octal`: `not\999octal`,
	} {
		if got := Unescape(in); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
	}
}
