package namespaces

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestPathAndNames(t *testing.T) {
	spec := &specs.Spec{Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{
		{Type: specs.NetworkNamespace, Path: "/run/netns/x"},
		{Type: specs.PIDNamespace},
	}}}
	tests := []struct {
		t            specs.LinuxNamespaceType
		path, name   string
		has, created bool
	}{
		{specs.NetworkNamespace, "/run/netns/x", "net", true, false},
		{specs.PIDNamespace, "", "pid", true, true},
		{specs.MountNamespace, "", "mnt", false, false},
		{specs.TimeNamespace, "", "time", false, false},
	}
	for _, tt := range tests {
		if got := Path(spec, tt.t); got != tt.path {
			t.Errorf("Path(%s) = %q, want %q", tt.t, got, tt.path)
		}
		if got := ProcName(tt.t); got != tt.name {
			t.Errorf("ProcName(%s) = %q, want %q", tt.t, got, tt.name)
		}
		if Has(spec, tt.t) != tt.has || IsNew(spec, tt.t) != tt.created {
			t.Errorf("%s: Has %v IsNew %v, want %v %v", tt.t, Has(spec, tt.t), IsNew(spec, tt.t), tt.has, tt.created)
		}
	}
	if Path(nil, specs.NetworkNamespace) != "" || Path(&specs.Spec{}, specs.NetworkNamespace) != "" {
		t.Error("a spec without linux.namespaces joins nothing")
	}
}
