package main

import "testing"

func TestParseMemory(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1024", 1024, true},
		{"-1", -1, true},
		{"64m", 64 << 20, true},
		{"64M", 64 << 20, true},
		{"1.5g", 3 << 29, true},
		{"2GiB", 2 << 30, true},
		{"512 KB", 512 << 10, true},
		{"10b", 10, true},
		{"lots", 0, false},
		{"", 0, false},
		{"-5", 0, false},
		{"1e3", 0, false},
		{"nan", 0, false},
		{"8p", 8 << 50, true},
		// 2^63 and above came out negative (FuzzParseMemory).
		{"8192p", 0, false},
		{"9223372036854775807", 0, false},
		{"99999999999999999999", 0, false},
	}
	for _, tc := range tests {
		got, err := parseMemory(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseMemory(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
