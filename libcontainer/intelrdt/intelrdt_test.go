package intelrdt

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestValidate(t *testing.T) {
	defer func(f func() (bool, error)) { resctrlMounted = f }(resctrlMounted)
	rdt := &specs.LinuxIntelRdt{L3CacheSchema: "L3:0=f"}
	for _, tt := range []struct {
		name    string
		rdt     *specs.LinuxIntelRdt
		mounted bool
		want    string
	}{
		{"none", nil, false, ""},
		{"no resctrl", rdt, false, "linux.intelRdt: Intel RDT is not enabled on this host: no resctrl filesystem is mounted (the CPU or kernel lacks it, or it needs mount -t resctrl resctrl /sys/fs/resctrl)"},
		{"resctrl", rdt, true, "linux.intelRdt: not supported: rt does not manage resctrl groups"},
		{"empty object", &specs.LinuxIntelRdt{}, true, "linux.intelRdt: not supported: rt does not manage resctrl groups"},
	} {
		resctrlMounted = func() (bool, error) { return tt.mounted, nil }
		got := ""
		if err := Validate(tt.rdt); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
