package libcontainer

import (
	"encoding/json"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestMergeResources(t *testing.T) {
	tests := []struct {
		name, cur, upd, want string
	}{
		{"nil-update", `{"memory":{"limit":10}}`, `{}`, `{"memory":{"limit":10}}`},
		{"keeps-unset", `{"memory":{"limit":10,"reservation":5},"cpu":{"shares":2}}`, `{"memory":{"limit":20}}`,
			`{"memory":{"limit":20,"reservation":5},"cpu":{"shares":2}}`},
		{"adds-section", `{}`, `{"pids":{"limit":7},"cpu":{"cpus":"0"}}`, `{"pids":{"limit":7},"cpu":{"cpus":"0"}}`},
		{"empty-cpus-keeps", `{"cpu":{"cpus":"0-1","mems":"0"}}`, `{"cpu":{"quota":5}}`, `{"cpu":{"quota":5,"cpus":"0-1","mems":"0"}}`},
		{"unlimited-memory-unlimits-swap", `{"memory":{"limit":10,"swap":20}}`, `{"memory":{"limit":-1}}`, `{"memory":{"limit":-1,"swap":-1}}`},
		{"throttle-by-device", `{"blockIO":{"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1},{"major":8,"minor":16,"rate":2}]}}`,
			`{"blockIO":{"throttleReadBpsDevice":[{"major":8,"minor":16,"rate":3},{"major":9,"minor":0,"rate":4}]}}`,
			`{"blockIO":{"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1},{"major":8,"minor":16,"rate":3},{"major":9,"minor":0,"rate":4}]}}`},
		{"hugepages-by-size", `{"hugepageLimits":[{"pageSize":"2MB","limit":1}]}`, `{"hugepageLimits":[{"pageSize":"2MB","limit":2},{"pageSize":"1GB","limit":3}]}`,
			`{"hugepageLimits":[{"pageSize":"2MB","limit":2},{"pageSize":"1GB","limit":3}]}`},
		{"unified-keys", `{"unified":{"a":"1","b":"2"}}`, `{"unified":{"b":"3"}}`, `{"unified":{"a":"1","b":"3"}}`},
		{"devices-untouched", `{"devices":[{"allow":false,"access":"rwm"}]}`, `{"memory":{"limit":1}}`, `{"devices":[{"allow":false,"access":"rwm"}],"memory":{"limit":1}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cur, upd specs.LinuxResources
			if err := json.Unmarshal([]byte(tc.cur), &cur); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tc.upd), &upd); err != nil {
				t.Fatal(err)
			}
			before, _ := json.Marshal(&cur)
			got, _ := json.Marshal(MergeResources(&cur, &upd))
			var a, b any
			json.Unmarshal(got, &a)
			json.Unmarshal([]byte(tc.want), &b)
			ga, _ := json.Marshal(a)
			gb, _ := json.Marshal(b)
			if string(ga) != string(gb) {
				t.Errorf("merge = %s, want %s", ga, gb)
			}
			if after, _ := json.Marshal(&cur); string(after) != string(before) {
				t.Errorf("merge modified its input: %s", after)
			}
		})
	}
}

func TestWithDefaultDevices(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	denyAll := specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}
	denyZero := specs.LinuxDeviceCgroup{Allow: false, Type: "c", Major: i(1), Minor: i(5), Access: "rwm"}
	got := withDefaultDevices([]specs.LinuxDeviceCgroup{denyAll, denyZero})
	// deny-all (ours), deny-all (spec), defaults, then the spec's deny of /dev/zero last.
	if len(got) < 4 || got[len(got)-1].Minor == nil || *got[len(got)-1].Minor != 5 || got[len(got)-1].Allow {
		t.Fatalf("the spec's rule after its deny-all must come last: %+v", got)
	}
	if !got[2].Allow {
		t.Errorf("defaults must follow the spec's deny-all: %+v", got)
	}
	if got := withDefaultDevices(nil); len(got) < 2 || got[0].Allow || !got[1].Allow {
		t.Errorf("no spec rules: %+v", got)
	}
}
