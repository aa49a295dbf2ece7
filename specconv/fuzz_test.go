package specconv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadAndValidate decodes and validates config.json documents as
// create does: never a panic, and a document that passes validation passes
// again once re-encoded (the validators read what create will apply).
func FuzzLoadAndValidate(f *testing.F) {
	for _, rootless := range []bool{false, true} {
		data, err := json.Marshal(Example(rootless))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["sh"],"cwd":"/"},"linux":{}}`))
	f.Add([]byte(`{"ociVersion":"1.3.0","root":{"path":"rootfs"},"process":{"args":["x"],"cwd":"/","user":{"uid":0,"gid":0}},` +
		`"mounts":[{"destination":"/proc","type":"proc","source":"proc"},{"destination":"data","type":"bind","source":"/tmp","options":["rbind","ro"]}],` +
		`"linux":{"namespaces":[{"type":"pid"},{"type":"network","path":"/proc/self/ns/net"}],"sysctl":{"net.ipv4.ip_forward":"1"},` +
		`"resources":{"memory":{"limit":-1},"pids":{"limit":0},"devices":[{"allow":false,"access":"rwm"}]},` +
		`"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}}}`))
	f.Add([]byte(`{"ociVersion":"1.0.0","process":{"args":[]},"linux":{"uidMappings":[{"containerID":0,"hostID":1,"size":0}]}}`))
	f.Add([]byte(`{"ociVersion": 1}`))
	f.Add([]byte(`{"mounts":[{"destination":"/\u0000x"}]}`))
	bundle := f.TempDir()
	if err := os.Mkdir(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := decodeSpec(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("decode: empty error")
			}
			return
		}
		if err := Validate(s, bundle, Options{Create: true}); err != nil {
			if err.Error() == "" {
				t.Fatal("validate: empty error")
			}
			return
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("re-encode a valid spec: %v", err)
		}
		s2, err := decodeSpec(again)
		if err != nil {
			t.Fatalf("decode a re-encoded valid spec: %v\n%s", err, again)
		}
		if err := Validate(s2, bundle, Options{Create: true}); err != nil {
			t.Fatalf("a valid spec is invalid once re-encoded: %v\n%s", err, again)
		}
	})
}
