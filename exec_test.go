package main

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestAddExecCaps(t *testing.T) {
	for _, tt := range []struct {
		name string
		base *specs.LinuxCapabilities
		want *specs.LinuxCapabilities
	}{
		{
			name: "no capabilities in the spec",
			base: nil,
			want: &specs.LinuxCapabilities{Bounding: []string{"CAP_SYSLOG"}, Effective: []string{"CAP_SYSLOG"}, Permitted: []string{"CAP_SYSLOG"}},
		},
		{
			name: "never inheritable; ambient only next to an inheritable set",
			base: &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL"}, Inheritable: []string{"CAP_KILL"}, Ambient: []string{"CAP_KILL"}},
			want: &specs.LinuxCapabilities{
				Bounding: []string{"CAP_KILL", "CAP_SYSLOG"}, Effective: []string{"CAP_SYSLOG"}, Permitted: []string{"CAP_SYSLOG"},
				Inheritable: []string{"CAP_KILL"}, Ambient: []string{"CAP_KILL", "CAP_SYSLOG"},
			},
		},
		{
			name: "no inheritable set: no ambient",
			base: &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL"}, Effective: []string{"CAP_KILL"}},
			want: &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL", "CAP_SYSLOG"}, Effective: []string{"CAP_KILL", "CAP_SYSLOG"}, Permitted: []string{"CAP_SYSLOG"}},
		},
	} {
		var before *specs.LinuxCapabilities
		if tt.base != nil {
			c := *tt.base
			before = &c
		}
		got := addExecCaps(tt.base, []string{"CAP_SYSLOG"})
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
		if !reflect.DeepEqual(tt.base, before) {
			t.Errorf("%s: the container's capabilities were changed: %+v", tt.name, tt.base)
		}
	}
}
