package initproc

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestValidateProcess(t *testing.T) {
	ok := func() *specs.Process {
		return &specs.Process{Args: []string{"sh"}, Cwd: "/", Env: []string{"PATH=/bin"}}
	}
	for _, tt := range []struct {
		name   string
		mutate func(*specs.Process)
		want   string
	}{
		{"valid", func(*specs.Process) {}, ""},
		{"no args", func(p *specs.Process) { p.Args = nil }, "process.args: must not be empty"},
		{"empty args[0]", func(p *specs.Process) { p.Args = []string{""} }, "process.args[0]: must not be empty"},
		{"NUL in args", func(p *specs.Process) { p.Args = append(p.Args, "a\x00") }, "process.args[1]: contains a NUL byte"},
		{"relative cwd", func(p *specs.Process) { p.Cwd = "tmp" }, `process.cwd: "tmp" is not absolute`},
		{"bad env", func(p *specs.Process) { p.Env = []string{"X"} }, `process.env[0]: "X" is not of the form KEY=VALUE`},
		{"console size", func(p *specs.Process) { p.ConsoleSize = &specs.Box{Height: 65535, Width: 1} }, ""},
		{"console too high", func(p *specs.Process) { p.ConsoleSize = &specs.Box{Height: 65536, Width: 80} }, "process.consoleSize.height: 65536 is more than 65535 rows"},
		{"console too wide", func(p *specs.Process) { p.ConsoleSize = &specs.Box{Height: 24, Width: 1 << 20} }, "process.consoleSize.width: 1048576 is more than 65535 columns"},
	} {
		p := ok()
		tt.mutate(p)
		got := ""
		if err := ValidateProcess(p); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	if err := ValidateProcess(nil); err == nil {
		t.Error("nil process accepted")
	}
}
