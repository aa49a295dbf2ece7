package cgroups

import (
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestValidatePath(t *testing.T) {
	for _, tt := range []struct {
		path    string
		systemd bool
		want    string
	}{
		{"", false, ""},
		{"rt/c1", false, ""},
		{"/abs/c1", false, ""},
		{"a/../../b", false, `linux.cgroupsPath: "a/../../b" must not contain ".."`},
		{"a\x00b", false, "linux.cgroupsPath: contains a NUL byte"},
		{":rt:c1", true, ""},
		{"/rt/c1", true, `linux.cgroupsPath: "/rt/c1" is not "slice:prefix:name" as systemd cgroups need`},
		{"system.slice:rt:", true, `linux.cgroupsPath: "system.slice:rt:" has an empty name`},
		{"machine:rt:c1", true, `linux.cgroupsPath: "machine" is not a slice name`},
	} {
		got := ""
		if err := ValidatePath(tt.path, tt.systemd); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("ValidatePath(%q, %v) = %q, want %q", tt.path, tt.systemd, got, tt.want)
		}
	}
}

func TestValidateResources(t *testing.T) {
	major := int64(1)
	for _, tt := range []struct {
		name string
		r    *specs.LinuxResources
		want string
	}{
		{"nil", nil, ""},
		{"docker's device rules", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"}, {Allow: true, Type: "c", Major: &major, Access: "rwm"}, {Allow: true, Type: "a"},
		}}, ""},
		{"device type", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "p"}}}, `linux.resources.devices[0].type: "p" is not one of a, b, c`},
		{"device access", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "c", Access: "xa"}}}, `linux.resources.devices[0].access: "xa" has none of the letters r, w, m`},
		// Letters runc ignores are ignored.
		{"device access with an unknown letter", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "c", Access: "rwa"}}}, ""},
		{"unified", &specs.LinuxResources{Unified: map[string]string{"memory.high": "max"}}, ""},
		{"unified path", &specs.LinuxResources{Unified: map[string]string{"../../memory.high": "max"}}, `linux.resources.unified["../../memory.high"]: not a cgroup file name`},
		{"unified no controller", &specs.LinuxResources{Unified: map[string]string{"weight": "1"}}, `linux.resources.unified["weight"]: not a cgroup file name`},
	} {
		got := ""
		if err := ValidateResources(tt.r); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
