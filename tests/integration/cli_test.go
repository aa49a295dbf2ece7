package integration

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

func TestVersion(t *testing.T) {
	for _, flag := range []string{"--version", "-v"} {
		r := runRT(workDir, nil, flag)
		lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
		if r.Code != 0 || len(lines) != 5 {
			t.Fatalf("rt %s: %s", flag, r)
		}
		// runc's layout: "runc version X", then commit, spec, go, libseccomp.
		for i, prefix := range []string{"rt version ", "commit: ", "spec: 1.", "go: go1.", "libseccomp: 2."} {
			if !strings.HasPrefix(lines[i], prefix) {
				t.Errorf("line %d: %q, want prefix %q", i, lines[i], prefix)
			}
		}
	}
}

func TestHelpOnEveryCommand(t *testing.T) {
	for _, cmd := range []string{"checkpoint", "create", "delete", "events", "exec", "features", "kill", "list",
		"pause", "ps", "restore", "resume", "run", "spec", "start", "state", "update"} {
		r := runRT(workDir, nil, cmd, "--help")
		if r.Code != 0 || !strings.Contains(r.Stdout, "USAGE") {
			t.Errorf("rt %s --help: %s", cmd, r)
		}
	}
}

// TestFlagForms: flags parse as "--flag value" and "--flag=value", before the subcommand as runc accepts them.
func TestFlagForms(t *testing.T) {
	b := newBundle(t, "sleep", "100")
	b.write()
	log := filepath.Join(b.Dir, "log.json")
	r := runRT(b.Root, nil, "--log="+log, "--log-format=json", "create", "--bundle="+b.Dir, "--pid-file="+filepath.Join(b.Dir, "pid"), b.ID)
	if r.Code != 0 {
		t.Fatalf("create with --flag=value forms: %s", r)
	}
	if _, err := os.Stat(filepath.Join(b.Dir, "pid")); err != nil {
		t.Errorf("--pid-file=: %v", err)
	}
	st := exec.Command(rtBinary, "--root="+b.Root, "state", b.ID)
	if out, err := st.Output(); err != nil || !strings.Contains(string(out), `"status": "created"`) {
		t.Errorf("--root=: %v %s", err, out)
	}
	b.remove()
}

// TestJSONLogErrors: containerd's shim reads the last error line of --log.
func TestJSONLogErrors(t *testing.T) {
	log := filepath.Join(workDir, "errors.json")
	r := runRT(workDir, nil, "--log", log, "--log-format", "json", "state", "no-such-container")
	if r.Code != 1 {
		t.Fatalf("state of an unknown container: %s", r)
	}
	if !strings.Contains(r.Stderr, "does not exist") {
		t.Errorf("stderr: %q", r.Stderr)
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	var line map[string]string
	if err := json.Unmarshal(data, &line); err != nil {
		t.Fatalf("log line %q: %v", data, err)
	}
	if line["level"] != "error" || !strings.Contains(line["msg"], "does not exist") || line["time"] == "" {
		t.Errorf("log line: %v", line)
	}
	if r := runRT(workDir, nil, "--log-format", "xml", "list"); r.Code == 0 || !strings.Contains(r.Stderr, "--log-format") {
		t.Errorf("bad --log-format: %s", r)
	}
}

// TestRecordedClientCommandLinesParse replays the shapes of every command
// line containerd's shim and podman's conmon sent (tests/clients/recorded):
// each must get past flag parsing to rt's own answer about the container.
func TestRecordedClientCommandLinesParse(t *testing.T) {
	files, _ := filepath.Glob("../clients/recorded/*.txt")
	if len(files) == 0 {
		t.Fatal("no recorded invocations in tests/clients/recorded")
	}
	shape := regexp.MustCompile(`^\s*\d+ \([^)]*\) (.*)$`)
	p := filepath.Join(workDir, "placeholder")
	n := 0
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			m := shape.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			n++
			var args []string
			for _, w := range strings.Fields(m[1]) {
				switch w {
				case "<path>", "<v>":
					w = p
				case "<id>":
					w = "no-such-container"
				case "<sig>":
					w = "9"
				}
				args = append(args, w)
			}
			if args[0] != "--root" {
				args = append([]string{"--root", filepath.Join(workDir, "replay")}, args...)
			}
			r := runRT(workDir, nil, args[2:]...)
			if strings.Contains(r.Stderr, "flag provided but not defined") || strings.Contains(r.Stdout, "Incorrect Usage") {
				t.Errorf("%s: %s", m[1], r)
			}
		}
		fh.Close()
	}
	if n < 10 {
		t.Errorf("only %d command shapes found", n)
	}
}

// TestSpecCommand: rt spec writes runc's default, refuses to overwrite it, and runc accepts it.
func TestSpecCommand(t *testing.T) {
	dir := t.TempDir()
	if r := runRT(workDir, nil, "spec", "--bundle", dir); r.Code != 0 {
		t.Fatal(r)
	}
	if r := runRT(workDir, nil, "spec", "--bundle", dir); r.Code == 0 || !strings.Contains(r.Stderr, "exists") {
		t.Errorf("second spec: %s", r)
	}
	if r := runRT(workDir, nil, "spec", "--rootless", "--bundle", t.TempDir()); r.Code != 0 {
		t.Errorf("spec --rootless: %s", r)
	}
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Skip("runc is not installed")
	}
	b := newBundle(t, "true")
	data, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	var spec map[string]any
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	spec["process"].(map[string]any)["terminal"] = false
	spec["process"].(map[string]any)["args"] = []string{"true"}
	spec["linux"].(map[string]any)["cgroupsPath"] = b.Spec.Linux.CgroupsPath
	data, _ = json.Marshal(spec)
	os.WriteFile(filepath.Join(b.Dir, "config.json"), data, 0o644)
	cmd := exec.Command(runc, "--root", filepath.Join(workDir, "runc-state"), "run", "--bundle", b.Dir, b.ID)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("runc run of rt spec's config: %v: %s", err, out)
	}
}

// TestConcurrentState: commands on one container serialise on its lock and all succeed.
func TestConcurrentState(t *testing.T) {
	b := newBundle(t, "sleep", "100")
	b.create()
	var wg sync.WaitGroup
	errs := make(chan string, 40)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := b.rt("state", b.ID); r.Code != 0 || !strings.Contains(r.Stdout, `"created"`) {
				errs <- r.String()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	b.remove()
}

func TestInvalidBundlesNameTheField(t *testing.T) {
	tests := []struct {
		name   string
		config string
		want   string
	}{
		{"no ociVersion", `{"root":{"path":"rootfs"},"process":{"args":["true"],"cwd":"/"}}`, "ociVersion"},
		{"bad namespace", `{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["true"],"cwd":"/"},"linux":{"namespaces":[{"type":"foo"}]}}`, `linux.namespaces[0].type: unknown namespace`},
		{"empty args", `{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":[],"cwd":"/"}}`, "process.args"},
		{"relative hook", `{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["true"],"cwd":"/"},"hooks":{"prestart":[{"path":"x"}]}}`, "hooks.prestart[0].path"},
		{"missing rootfs", `{"ociVersion":"1.0.2","root":{"path":"nope"},"process":{"args":["true"],"cwd":"/"}}`, "root.path"},
		{"not json", `{"ociVersion":`, "config.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t)
			os.WriteFile(filepath.Join(b.Dir, "config.json"), []byte(tc.config), 0o644)
			r := b.rt("create", "--bundle", b.Dir, b.ID)
			if r.Code != 1 || !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("create: %s, want exit 1 naming %q", r, tc.want)
			}
			assertNoLeaks(t, b, 0)
		})
	}
}
