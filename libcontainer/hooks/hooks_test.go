package hooks

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestState(t *testing.T) {
	spec := &specs.Spec{Annotations: map[string]string{"a": "b"}}
	st := State("c1", "/bundle", spec, specs.StateCreating, 42)
	want := specs.State{Version: specs.Version, ID: "c1", Status: specs.StateCreating, Pid: 42, Bundle: "/bundle", Annotations: spec.Annotations}
	if st.Version != want.Version || st.ID != want.ID || st.Status != want.Status || st.Pid != want.Pid || st.Bundle != want.Bundle || st.Annotations["a"] != "b" {
		t.Errorf("State = %+v, want %+v", st, want)
	}
	if st := State("c1", "/bundle", nil, specs.StateStopped, 0); st.Annotations != nil {
		t.Errorf("State without a spec has annotations %v", st.Annotations)
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "state")
	timeout := 1
	for _, tt := range []struct {
		name    string
		hooks   []specs.Hook
		wantErr string
	}{
		{"state on stdin", []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "cat > " + out}}}, ""},
		{"failure names the hook", []specs.Hook{
			{Path: "/bin/true"},
			{Path: "/bin/sh", Args: []string{"sh", "-c", "echo bad; exit 3"}},
		}, `error running prestart hook #1: hook /bin/sh: exit status 3, output: "bad"`},
		{"timeout", []specs.Hook{{Path: "/bin/sleep", Args: []string{"sleep", "10"}, Timeout: &timeout}},
			"error running prestart hook #0: hook /bin/sleep: timed out after 1s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := Run("prestart", tt.hooks, State("c1", "/bundle", nil, specs.StateCreating, 7))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got specs.State
			data, _ := os.ReadFile(out)
			if err := json.Unmarshal(data, &got); err != nil || got.ID != "c1" || got.Pid != 7 || !strings.HasPrefix(got.Version, "1.") {
				t.Errorf("hook got %s (%v)", data, err)
			}
		})
	}
}
