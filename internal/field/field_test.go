package field

import (
	"slices"
	"testing"
)

func TestNames(t *testing.T) {
	if got := Index("process.rlimits", 2); got != "process.rlimits[2]" {
		t.Errorf("Index = %s", got)
	}
	if got := Key("linux.sysctl", "net.core.x"); got != `linux.sysctl["net.core.x"]` {
		t.Errorf("Key = %s", got)
	}
	if got := SortedKeys(map[string]int{"b": 1, "a": 2, "c": 3}); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("SortedKeys = %v", got)
	}
}

func TestChecks(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"absolute ok", Absolute("f", "/a/b"), ""},
		{"absolute missing", Absolute("f", ""), "f: missing"},
		{"absolute relative", Absolute("f", "a/b"), `f: "a/b" is not absolute`},
		{"absolute NUL", Absolute("f", "/a\x00"), "f: contains a NUL byte"},
		{"env ok", Env("env", []string{"A=1", "B=", "C=x=y"}), ""},
		{"env no =", Env("env", []string{"A=1", "B"}), `env[1]: "B" is not of the form KEY=VALUE`},
		{"env empty key", Env("env", []string{"=1"}), `env[0]: "=1" is not of the form KEY=VALUE`},
		{"env NUL", Env("env", []string{"A=\x00"}), "env[0]: contains a NUL byte"},
	} {
		got := ""
		if tt.err != nil {
			got = tt.err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
