package libcontainer

import (
	"syscall"
	"testing"
)

func TestNeedMapHelpers(t *testing.T) {
	one := func(c, h, n int) []syscall.SysProcIDMap {
		return []syscall.SysProcIDMap{{ContainerID: c, HostID: h, Size: n}}
	}
	two := append(one(0, 1000, 1), syscall.SysProcIDMap{ContainerID: 1, HostID: 100000, Size: 65536})
	for _, tt := range []struct {
		name       string
		euid, egid int
		uid, gid   []syscall.SysProcIDMap
		want       bool
	}{
		{"root writes anything", 0, 0, two, two, false},
		{"own ids as root of the container", 1000, 1000, one(0, 1000, 1), one(0, 1000, 1), false},
		{"own ids at another container id", 1000, 1000, one(5, 1000, 1), one(5, 1000, 1), false},
		{"several ranges", 1000, 1000, two, one(0, 1000, 1), true},
		{"another user's uid", 1000, 1000, one(0, 1001, 1), one(0, 1000, 1), true},
		{"more than its own gid", 1000, 1000, one(0, 1000, 1), one(0, 1000, 2), true},
		{"gid of the user's group, not its own", 1000, 50, one(0, 1000, 1), one(0, 1000, 1), true},
	} {
		if got := needMapHelpers(tt.euid, tt.egid, tt.uid, tt.gid); got != tt.want {
			t.Errorf("%s: needMapHelpers = %v, want %v", tt.name, got, tt.want)
		}
	}
}
