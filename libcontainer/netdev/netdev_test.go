package netdev

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestValidate(t *testing.T) {
	withNet := []specs.LinuxNamespace{{Type: specs.NetworkNamespace}}
	for _, tt := range []struct {
		name string
		ns   []specs.LinuxNamespace
		devs map[string]specs.LinuxNetDevice
		want string
	}{
		{"none", nil, nil, ""},
		{"without netns", nil, map[string]specs.LinuxNetDevice{"eth1": {}}, "linux.netDevices: requires a network namespace"},
		{"bad host name", withNet, map[string]specs.LinuxNetDevice{"a:b": {}}, `linux.netDevices["a:b"]: "a:b" is not a valid interface name`},
		{"bad name", withNet, map[string]specs.LinuxNetDevice{"eth1": {Name: "much-too-long-name"}},
			`linux.netDevices["eth1"].name: "much-too-long-name" is not a valid interface name`},
		{"renamed", withNet, map[string]specs.LinuxNetDevice{"eth1": {Name: "eth0"}}, ""},
		{"template", withNet, map[string]specs.LinuxNetDevice{"eth1": {Name: "ctr%d"}}, ""},
	} {
		s := &specs.Spec{Linux: &specs.Linux{Namespaces: tt.ns, NetDevices: tt.devs}}
		got := ""
		if err := Validate(s); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSameName(t *testing.T) {
	for _, tt := range []struct {
		got, want string
		same      bool
	}{
		{"eth0", "eth0", true},
		{"eth1", "eth0", false},
		{"eth3", "eth%d", true},
		{"eth12x", "eth%dx", true},
		{"eth", "eth%d", false},
		{"ethx", "eth%d", false},
		{"veth3", "eth%d", false},
	} {
		if got := sameName(tt.got, tt.want); got != tt.same {
			t.Errorf("sameName(%q, %q) = %t, want %t", tt.got, tt.want, got, tt.same)
		}
	}
}
