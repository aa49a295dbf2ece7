package initproc

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestStartContainerHooksEnv(t *testing.T) {
	env := []string{"PATH=/bin", "ONE=two", "HOME=/root"}
	in := []specs.Hook{
		{Path: "/a"},
		{Path: "/b", Env: []string{"OWN=1"}},
		{Path: "/c", Env: []string{}},
	}
	want := []specs.Hook{
		{Path: "/a", Env: env},
		{Path: "/b", Env: []string{"OWN=1"}},
		{Path: "/c", Env: env},
	}
	got := startContainerHooks(in, env)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hooks %+v, want %+v", got, want)
	}
	// The spec's own hooks are not changed.
	if in[0].Env != nil {
		t.Errorf("the spec's hook was changed: %+v", in[0])
	}
}
