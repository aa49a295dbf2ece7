package fs1

import (
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtproject/rt/cgroups/internal/cgtest"
)

func TestMain(m *testing.M) { cgtest.Main(m) }

func i64(v int64) *int64   { return &v }
func u64(v uint64) *uint64 { return &v }
func u16(v uint16) *uint16 { return &v }
func boolp(v bool) *bool   { return &v }

func throttle(major, minor string, rate uint64) specs.LinuxThrottleDevice {
	return specs.LinuxThrottleDevice{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: atoi(major), Minor: atoi(minor)}, Rate: rate}
}
