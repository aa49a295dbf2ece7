package intelrdt

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestValidate(t *testing.T) {
	if err := Validate(nil); err != nil {
		t.Errorf("no intelRdt: %v", err)
	}
	err := Validate(&specs.LinuxIntelRdt{L3CacheSchema: "L3:0=f"})
	if err == nil || err.Error() != "linux.intelRdt: not supported: rt does not manage Intel RDT (resctrl) yet" {
		t.Errorf("intelRdt: %v", err)
	}
}
