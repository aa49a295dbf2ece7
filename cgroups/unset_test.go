package cgroups

import (
	"encoding/json"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestWithoutUnset(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"nil", `null`, `null`},
		{"memory-limit-0", `{"memory":{"limit":0}}`, `{"memory":{}}`},
		{"memory-limit-kept", `{"memory":{"limit":1048576}}`, `{"memory":{"limit":1048576}}`},
		{"memory-limit-unlimited-kept", `{"memory":{"limit":-1}}`, `{"memory":{"limit":-1}}`},
		{"memory-reservation-0", `{"memory":{"reservation":0}}`, `{"memory":{}}`},
		{"memory-reservation-kept", `{"memory":{"reservation":5}}`, `{"memory":{"reservation":5}}`},
		{"memory-swap-0", `{"memory":{"swap":0}}`, `{"memory":{}}`},
		{"memory-swap-unlimited-kept", `{"memory":{"swap":-1}}`, `{"memory":{"swap":-1}}`},
		{"memory-kernel-0", `{"memory":{"kernel":0}}`, `{"memory":{}}`},
		{"memory-kernelTCP-0", `{"memory":{"kernelTCP":0}}`, `{"memory":{}}`},
		{"memory-swappiness-minus-1", `{"memory":{"swappiness":18446744073709551615}}`, `{"memory":{}}`},
		{"memory-swappiness-0-kept", `{"memory":{"swappiness":0}}`, `{"memory":{"swappiness":0}}`},
		{"memory-disableOOMKiller-false", `{"memory":{"disableOOMKiller":false}}`, `{"memory":{}}`},
		{"memory-disableOOMKiller-true-kept", `{"memory":{"disableOOMKiller":true}}`, `{"memory":{"disableOOMKiller":true}}`},
		{"memory-checkBeforeUpdate-kept", `{"memory":{"checkBeforeUpdate":false}}`, `{"memory":{"checkBeforeUpdate":false}}`},
		{"cpu-shares-0", `{"cpu":{"shares":0}}`, `{"cpu":{}}`},
		{"cpu-shares-kept", `{"cpu":{"shares":512}}`, `{"cpu":{"shares":512}}`},
		{"cpu-quota-0", `{"cpu":{"quota":0}}`, `{"cpu":{}}`},
		{"cpu-quota-unlimited-kept", `{"cpu":{"quota":-1}}`, `{"cpu":{"quota":-1}}`},
		{"cpu-period-0", `{"cpu":{"period":0}}`, `{"cpu":{}}`},
		{"cpu-realtimeRuntime-0", `{"cpu":{"realtimeRuntime":0}}`, `{"cpu":{}}`},
		{"cpu-realtimePeriod-0", `{"cpu":{"realtimePeriod":0}}`, `{"cpu":{}}`},
		{"cpu-burst-0-kept", `{"cpu":{"burst":0}}`, `{"cpu":{"burst":0}}`},
		{"cpu-idle-0-kept", `{"cpu":{"idle":0}}`, `{"cpu":{"idle":0}}`},
		{"cpu-cpus-empty-kept", `{"cpu":{"cpus":"","mems":""}}`, `{"cpu":{}}`},
		{"pids-0-kept", `{"pids":{"limit":0}}`, `{"pids":{"limit":0}}`},
		{"pids-unlimited-kept", `{"pids":{"limit":-1}}`, `{"pids":{"limit":-1}}`},
		{"blkio-weight-0", `{"blockIO":{"weight":0}}`, `{"blockIO":{}}`},
		{"blkio-weight-kept", `{"blockIO":{"weight":300}}`, `{"blockIO":{"weight":300}}`},
		{"blkio-leafWeight-0", `{"blockIO":{"leafWeight":0}}`, `{"blockIO":{}}`},
		{"blkio-weightDevice-0-dropped", `{"blockIO":{"weightDevice":[{"major":8,"minor":0,"weight":0,"leafWeight":0}]}}`, `{"blockIO":{}}`},
		{"blkio-weightDevice-leaf-kept", `{"blockIO":{"weightDevice":[{"major":8,"minor":0,"weight":0,"leafWeight":20}]}}`,
			`{"blockIO":{"weightDevice":[{"major":8,"minor":0,"leafWeight":20}]}}`},
		{"blkio-throttle-0-kept", `{"blockIO":{"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":0}]}}`,
			`{"blockIO":{"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":0}]}}`},
		{"network-classID-0", `{"network":{"classID":0}}`, `{"network":{}}`},
		{"network-priorities-kept", `{"network":{"priorities":[{"name":"eth0","priority":0}]}}`,
			`{"network":{"priorities":[{"name":"eth0","priority":0}]}}`},
		{"hugepage-0-kept", `{"hugepageLimits":[{"pageSize":"2MB","limit":0}]}`, `{"hugepageLimits":[{"pageSize":"2MB","limit":0}]}`},
		// What Docker 20.10 sends for `docker run` with no limits, and for
		// `docker update --pids-limit 10`: only the pids limit is left.
		{"docker-create", `{"devices":[{"allow":false,"access":"rwm"}],"memory":{"disableOOMKiller":false},"cpu":{"shares":0},"blockIO":{"weight":0}}`,
			`{"devices":[{"allow":false,"access":"rwm"}],"memory":{},"cpu":{},"blockIO":{}}`},
		{"docker-update", `{"memory":{"limit":0,"reservation":0,"kernel":0},"cpu":{"shares":0,"quota":0,"period":0,"cpus":"","mems":""},"pids":{"limit":10}}`,
			`{"memory":{},"cpu":{},"pids":{"limit":10}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var in *specs.LinuxResources
			if err := json.Unmarshal([]byte(tc.in), &in); err != nil {
				t.Fatal(err)
			}
			before, _ := json.Marshal(in)
			got, _ := json.Marshal(WithoutUnset(in))
			if string(got) != tc.want {
				t.Errorf("WithoutUnset(%s) = %s, want %s", tc.in, got, tc.want)
			}
			if after, _ := json.Marshal(in); string(after) != string(before) {
				t.Errorf("WithoutUnset modified its input: %s, was %s", after, before)
			}
		})
	}
}
