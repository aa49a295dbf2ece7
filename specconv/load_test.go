package specconv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadBundle(t *testing.T) {
	tests := []struct {
		name   string
		config string
		want   string // error text; "" for success
	}{
		{name: "valid", config: `{"ociVersion": "1.0.2", "process": {"args": ["sh"], "cwd": "/"}, "root": {"path": "rootfs"}}`},
		{name: "unknown fields ignored", config: `{"ociVersion": "1.0.2", "future": {"x": 1}, "process": {"cwd": "/", "newThing": true}}`},
		{name: "syntax error", config: "{\n  \"ociVersion\": \"1.0.2\",\n  \"root\": {\"path\": rootfs}\n}",
			want: `config.json: line 3, column 20: invalid character 'r' looking for beginning of value`},
		{name: "truncated", config: `{"ociVersion": "1.0.2"`,
			want: `config.json: line 1, column 22: unexpected end of JSON input`},
		{name: "trailing garbage", config: `{"ociVersion": "1.0.2"} x`,
			want: `config.json: line 1, column 25: invalid character 'x' after top-level value`},
		{name: "string for array", config: `{"process": {"args": "sh"}}`,
			want: `config.json: process.args: expected an array, got "sh"`},
		{name: "number in string array", config: `{"process": {"args": ["sh", 5]}}`,
			want: `config.json: process.args[1]: expected a string, got 5`},
		{name: "negative uint", config: `{"process": {"rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1, "soft": 1}, {"type": "RLIMIT_CORE", "hard": -1, "soft": 0}]}}`,
			want: `config.json: process.rlimits[1].hard: expected an integer (uint64), got -1`},
		{name: "uint32 overflow", config: `{"linux": {"uidMappings": [{"containerID": 0, "hostID": 4294967296, "size": 1}]}}`,
			want: `config.json: linux.uidMappings[0].hostID: expected an integer (uint32), got 4294967296`},
		{name: "fraction", config: `{"process": {"oomScoreAdj": 1.5}}`,
			want: `config.json: process.oomScoreAdj: expected an integer (int), got 1.5`},
		{name: "map value", config: `{"linux": {"sysctl": {"net.core.somaxconn": 256}}}`,
			want: `config.json: linux.sysctl["net.core.somaxconn"]: expected a string, got 256`},
		{name: "embedded struct field", config: `{"linux": {"resources": {"blockIO": {"weightDevice": [{"major": "8", "minor": 0}]}}}}`,
			want: `config.json: linux.resources.blockIO.weightDevice[0].major: expected an integer (int64), got "8"`},
		{name: "bool", config: `{"root": {"path": "rootfs", "readonly": "yes"}}`,
			want: `config.json: root.readonly: expected a boolean, got "yes"`},
		{name: "object for string", config: `{"ociVersion": {}}`,
			want: `config.json: ociVersion: expected a string, got an object`},
		{name: "not an object", config: `[]`,
			want: `config.json: (document): expected an object, got an array`},
		{name: "null is fine", config: `{"ociVersion": "1.0.0", "process": null, "linux": {"namespaces": null}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bundle := t.TempDir()
			if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte(tc.config), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := LoadBundle(bundle)
			if tc.want == "" {
				if err != nil || s == nil {
					t.Fatalf("got %v, %v", s, err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error\n got: %v\nwant: %s", err, tc.want)
			}
		})
	}
}

func TestLoadBundleDecodes(t *testing.T) {
	bundle := t.TempDir()
	config := `{"ociVersion": "1.0.2", "process": {"args": ["sh", "-c", "true"], "cwd": "/work",
		"rlimits": [{"type": "RLIMIT_NOFILE", "hard": 18446744073709551615, "soft": 1024}]},
		"linux": {"namespaces": [{"type": "user", "path": "/proc/1/ns/user"}]}}`
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadBundle(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Process.Args, " "); got != "sh -c true" {
		t.Errorf("args = %q", got)
	}
	if s.Process.Rlimits[0].Hard != 1<<64-1 {
		t.Errorf("hard = %d", s.Process.Rlimits[0].Hard)
	}
	if ns := s.Linux.Namespaces[0]; ns.Type != "user" || ns.Path != "/proc/1/ns/user" {
		t.Errorf("namespace = %+v", ns)
	}
}

func TestLoadBundleRelativeAndMissing(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir("b", 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := LoadBundle("b")
	want := "config.json: open " + filepath.Join(dir, "b", "config.json") + ": no such file or directory"
	if err == nil || err.Error() != want {
		t.Fatalf("error\n got: %v\nwant: %s", err, want)
	}
}

// TestLoadBundleWithoutLinux: linux is optional; rt reads a spec without it
// as one with an empty linux object (no namespaces, no limits), as runc does,
// instead of failing somewhere later on a missing object.
func TestLoadBundleWithoutLinux(t *testing.T) {
	for _, config := range []string{
		`{"ociVersion": "1.0.2", "process": {"args": ["sh"], "cwd": "/"}, "root": {"path": "rootfs"}}`,
		`{"ociVersion": "1.0.2", "linux": null}`,
	} {
		bundle := t.TempDir()
		if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := LoadBundle(bundle)
		if err != nil {
			t.Fatal(err)
		}
		if s.Linux == nil || len(s.Linux.Namespaces) != 0 || s.Linux.Resources != nil {
			t.Errorf("%s: linux = %+v, want an empty object", config, s.Linux)
		}
	}
}
