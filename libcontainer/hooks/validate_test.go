package hooks

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestValidate(t *testing.T) {
	zero := 0
	for _, tt := range []struct {
		name  string
		hooks *specs.Hooks
		want  string
	}{
		{"none", nil, ""},
		{"valid", &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true", Args: []string{"true"}, Env: []string{"A=b"}}}}, ""},
		{"relative", &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "true"}}}, `hooks.createRuntime[0].path: "true" is not absolute`},
		{"NUL arg", &specs.Hooks{Poststart: []specs.Hook{{Path: "/x"}, {Path: "/y", Args: []string{"y", "\x00"}}}}, "hooks.poststart[1].args[1]: contains a NUL byte"},
		{"env", &specs.Hooks{StartContainer: []specs.Hook{{Path: "/x", Env: []string{"X"}}}}, `hooks.startContainer[0].env[0]: "X" is not of the form KEY=VALUE`},
		{"timeout", &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/x", Timeout: &zero}}}, "hooks.createContainer[0].timeout: 0 is not greater than 0"},
	} {
		got := ""
		if err := Validate(tt.hooks); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
