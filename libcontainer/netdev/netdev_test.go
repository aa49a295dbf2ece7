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
		{"refused", withNet, map[string]specs.LinuxNetDevice{"eth1": {Name: "eth0"}},
			"linux.netDevices: not supported: rt does not move network devices into the container yet"},
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
