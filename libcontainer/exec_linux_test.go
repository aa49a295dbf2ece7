package libcontainer

import (
	"strings"
	"testing"
)

func TestSubCgroupDirs(t *testing.T) {
	paths := map[string]string{
		"cpu":    "/sys/fs/cgroup/cpu/ct",
		"memory": "/sys/fs/cgroup/memory/ct",
	}
	for _, tt := range []struct {
		name    string
		subs    []string
		want    map[string]string
		wantErr string
	}{
		{"every controller", []string{"sub"}, map[string]string{"cpu": "/sys/fs/cgroup/cpu/ct/sub", "memory": "/sys/fs/cgroup/memory/ct/sub"}, ""},
		{"top, explicitly", []string{"/"}, map[string]string{"cpu": "/sys/fs/cgroup/cpu/ct", "memory": "/sys/fs/cgroup/memory/ct"}, ""},
		{"one controller's top", []string{"cpu:/"}, map[string]string{"cpu": "/sys/fs/cgroup/cpu/ct"}, ""},
		{"two controllers", []string{"cpu,memory:a/b"}, map[string]string{"cpu": "/sys/fs/cgroup/cpu/ct/a/b", "memory": "/sys/fs/cgroup/memory/ct/a/b"}, ""},
		{"parent", []string{".."}, nil, "bad sub cgroup path: .."},
		{"sibling with our prefix", []string{"cpu:../ct-sibling"}, nil, "bad sub cgroup path: ../ct-sibling"},
		{"unknown controller", []string{"whaaat:/"}, nil, "unknown controller whaaat"},
		{"empty controller", []string{":x"}, nil, "empty controller"},
		{"twice", []string{"cpu:a", "cpu:b"}, nil, "cpu given more than once"},
		{"plain path among others", []string{"a", "cpu:b"}, nil, "must be the only --cgroup"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := subCgroupDirs(paths, tt.subs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s: got %s, want %s", k, got[k], v)
				}
			}
		})
	}
}
