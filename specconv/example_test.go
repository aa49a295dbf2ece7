package specconv

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestExampleMatchesRunc compares Example with what the installed runc writes, all but ociVersion
// (and the unraisable ambient set of runc before 1.2).
func TestExampleMatchesRunc(t *testing.T) {
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Skip("runc is not installed")
	}
	for _, rootless := range []bool{false, true} {
		name := "default"
		args := []string{"spec"}
		if rootless {
			name = "rootless"
			args = append(args, "--rootless")
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(runc, args...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("runc %v: %v: %s", args, err, out)
			}
			data, err := os.ReadFile(filepath.Join(dir, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			var theirs specs.Spec
			if err := json.Unmarshal(data, &theirs); err != nil {
				t.Fatal(err)
			}
			ours := Example(rootless)
			if ours.Version != specs.Version {
				t.Errorf("ociVersion = %q, want %q", ours.Version, specs.Version)
			}
			theirs.Version = ours.Version
			// runc before 1.2 (Debian 12 has 1.1.5) also wrote an ambient set
			// outside the inheritable one, which the kernel cannot raise: every
			// start warned about it. Example follows runc 1.5 and has none.
			if c := theirs.Process.Capabilities; c != nil && len(c.Inheritable) == 0 {
				c.Ambient = nil
			}
			want, got := indentJSON(t, &theirs), indentJSON(t, ours)
			if !bytes.Equal(got, want) {
				t.Errorf("Example(%v) differs from runc %v:\n--- ours\n%s\n--- runc\n%s", rootless, args, got, want)
			}
		})
	}
}

func indentJSON(t *testing.T, s *specs.Spec) []byte {
	t.Helper()
	b, err := json.MarshalIndent(s, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExampleIsValid(t *testing.T) {
	bundle := newBundle(t)
	if err := Validate(Example(false), bundle, Options{Create: true}); err != nil {
		t.Errorf("Example(false): %v", err)
	}
	if err := Validate(Example(true), bundle, Options{Create: true, Rootless: true}); err != nil {
		t.Errorf("Example(true): %v", err)
	}
}

func TestExampleCapabilitySetsAreIndependent(t *testing.T) {
	s := Example(false)
	s.Process.Capabilities.Bounding[0] = "CAP_SYS_ADMIN"
	if s.Process.Capabilities.Effective[0] != "CAP_AUDIT_WRITE" {
		t.Error("editing the bounding set changed the effective set")
	}
}
