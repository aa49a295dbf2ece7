package main

import (
	"strings"
	"testing"

	"github.com/rtproject/rt/cgroups"
)

// FuzzParseSignal: kill's signal argument is a known signal (1..64), 0 (a
// liveness check, as runc accepts) or an error, never a panic.
func FuzzParseSignal(f *testing.F) {
	for _, s := range []string{"KILL", "SIGTERM", "term", "9", "0", "64", "65", "-1", "SIGRTMIN+3", "", "SIG", "sigusr1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := parseSignal(s)
		if err == nil && (sig < 0 || sig > 64) {
			t.Fatalf("parseSignal(%q) = %d", s, sig)
		}
	})
}

// FuzzParseMemory: update's sizes are -1 (unlimited) or a byte count that
// fits an int64, or an error.
func FuzzParseMemory(f *testing.F) {
	for _, s := range []string{"1024", "-1", "64m", "1.5g", "2GiB", "512 KB", "10b", "lots", "", "-5", "1e3", "8p", "99999999999999999999", "0.5", ".", "9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseMemory(s)
		if err == nil && n < -1 {
			t.Fatalf("parseMemory(%q) = %d", s, n)
		}
		if err == nil && n == -1 && strings.TrimSpace(s) != "-1" {
			t.Fatalf("parseMemory(%q) = -1 (unlimited)", s)
		}
	})
}

// FuzzDecodeResources: update --resources JSON is decoded and validated by
// the rules create applies, without a panic.
func FuzzDecodeResources(f *testing.F) {
	for _, s := range []string{
		`{"memory":{"limit":1048576,"swap":-1},"cpu":{"shares":512,"quota":-1,"cpus":"0-1"},"pids":{"limit":0}}`,
		`{"devices":[{"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"}]}`,
		`{"blockIO":{"weight":10,"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1}]}}`,
		`{"unified":{"memory.max":"max","../x":"1"}}`,
		`{"hugepageLimits":[{"pageSize":"2MB","limit":0}]}`,
		`{"memory":{"limit":"x"}}`, `{"foo":1}`, `[]`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := decodeResources(strings.NewReader(s))
		if err != nil {
			return
		}
		cgroups.ValidateResources(r)
	})
}
