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
		{"throttle-duplicates-merged", `{"blockIO":{"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1},{"major":8,"minor":0,"rate":1},{"major":8,"minor":16,"rate":2}]}}`,
			`{"blockIO":{"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":5}],"throttleWriteIOPSDevice":[{"major":8,"minor":0,"rate":6},{"major":8,"minor":0,"rate":7}]}}`,
			`{"blockIO":{"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":5},{"major":8,"minor":16,"rate":2}],"throttleWriteIOPSDevice":[{"major":8,"minor":0,"rate":7}]}}`},
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
	denyNullWrite := specs.LinuxDeviceCgroup{Allow: false, Type: "c", Major: i(1), Minor: i(3), Access: "w"}
	fuse := specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i(10), Minor: i(229), Access: "rwm"}
	find := func(rules []specs.LinuxDeviceCgroup, minor int64) *specs.LinuxDeviceCgroup {
		for k := len(rules) - 1; k >= 0; k-- {
			if r := rules[k]; r.Allow && r.Major != nil && *r.Major == 1 && r.Minor != nil && *r.Minor == minor {
				return &rules[k]
			}
		}
		return nil
	}
	got := withDefaultDevices([]specs.LinuxDeviceCgroup{denyAll, fuse, denyZero, denyNullWrite})
	// Our deny-all, then the spec's rules in order (the device cgroup lists them so).
	if got[0].Allow || got[1] != denyAll || got[2] != fuse || got[3] != denyZero {
		t.Fatalf("spec rules out of order: %+v", got[:4])
	}
	if d := find(got, 5); d != nil {
		t.Errorf("/dev/zero re-allowed after the spec denied it: %+v", d)
	}
	if d := find(got, 3); d == nil || d.Access != "rm" {
		t.Errorf("/dev/null after a spec deny of w: %+v, want access rm", d)
	}
	// A deny without access denies everything, as the runtime-spec says.
	got = withDefaultDevices([]specs.LinuxDeviceCgroup{{Allow: false, Type: "c", Major: i(1), Minor: i(5)}})
	if d := find(got, 5); d != nil {
		t.Errorf("/dev/zero re-allowed after a deny of all access: %+v", d)
	}
	// A deny-all after the spec's denies resets them: the defaults apply whole.
	got = withDefaultDevices([]specs.LinuxDeviceCgroup{denyZero, denyAll})
	if d := find(got, 5); d == nil || d.Access != "rwm" {
		t.Errorf("/dev/zero after a later deny-all: %+v", d)
	}
	if got := withDefaultDevices(nil); len(got) < 2 || got[0].Allow || !got[1].Allow {
		t.Errorf("no spec rules: %+v", got)
	}
}
