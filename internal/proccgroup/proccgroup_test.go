package proccgroup

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		name   string
		in     string
		want   []Hierarchy
		byCtrl map[string]string
	}{
		{"hybrid", "4:memory:/ctr/a\n2:cpu,cpuacct:/b\n1:name=systemd:/\n0::/u\n",
			[]Hierarchy{{"memory", "/ctr/a"}, {"cpu,cpuacct", "/b"}, {"name=systemd", "/"}, {"", "/u"}},
			map[string]string{"memory": "/ctr/a", "cpu": "/b", "cpuacct": "/b", "name=systemd": "/", "": "/u"}},
		{"unified", "0::/user.slice/x\n", []Hierarchy{{"", "/user.slice/x"}}, map[string]string{"": "/user.slice/x"}},
		// A path may contain ":".
		{"colon in path", "0::/a:b\n", []Hierarchy{{"", "/a:b"}}, map[string]string{"": "/a:b"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse = %+v, want %+v", got, tt.want)
			}
			if m := ByController(got); !reflect.DeepEqual(m, tt.byCtrl) {
				t.Errorf("ByController = %v, want %v", m, tt.byCtrl)
			}
		})
	}
	if _, err := Parse(strings.NewReader("garbage\n")); err == nil {
		t.Error("a line without two colons was accepted")
	}
}

func TestReadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cgroup")
	os.WriteFile(p, []byte("bad\n"), 0o644)
	if _, err := ReadFile(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("ReadFile error %v does not name the file", err)
	}
	hs, err := ReadFile("/proc/self/cgroup")
	if err != nil || len(hs) == 0 {
		t.Errorf("ReadFile(/proc/self/cgroup) = %v, %v", hs, err)
	}
}
