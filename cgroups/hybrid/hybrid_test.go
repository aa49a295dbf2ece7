package hybrid

import (
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestSplitRoutesByController(t *testing.T) {
	limit := int64(10)
	r := &specs.LinuxResources{
		Pids:           &specs.LinuxPids{Limit: &limit},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1 << 21}},
		Unified:        map[string]string{"hugetlb.2MB.max": "1"},
		Devices:        []specs.LinuxDeviceCgroup{{Access: "rwm"}},
	}
	for _, tc := range []struct {
		name     string
		v2       []string
		hugeOnV2 bool
		pidsOnV2 bool
	}{
		{"hugetlb on v2", []string{"hugetlb"}, true, false},
		{"pids on v2", []string{"pids", "hugetlb"}, true, true},
		{"nothing on v2", nil, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &Manager{v2Controllers: tc.v2}
			v1, v2 := m.Split(r)
			if (len(v2.HugepageLimits) > 0) != tc.hugeOnV2 || (len(v1.HugepageLimits) > 0) == tc.hugeOnV2 {
				t.Errorf("hugepages: v1 %v, v2 %v", v1.HugepageLimits, v2.HugepageLimits)
			}
			if (v2.Pids != nil) != tc.pidsOnV2 || (v1.Pids != nil) == tc.pidsOnV2 {
				t.Errorf("pids: v1 %v, v2 %v", v1.Pids, v2.Pids)
			}
			if v1.Unified != nil || v2.Unified == nil || v1.Devices == nil || v2.Devices != nil {
				t.Errorf("unified must go to v2 and devices to v1: %+v / %+v", v1, v2)
			}
		})
	}
	if r.HugepageLimits == nil || r.Pids == nil {
		t.Errorf("Split changed its input")
	}
}
