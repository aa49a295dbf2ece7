package libcontainer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/criu/criurpc"
)

func TestCriuOptsValidate(t *testing.T) {
	images := t.TempDir()
	os.Mkdir(filepath.Join(images, "parent"), 0o700)
	os.WriteFile(filepath.Join(images, "file"), nil, 0o600)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	tests := []struct {
		name    string
		o       CriuOpts
		wantErr string
	}{
		{name: "defaults", o: CriuOpts{StatusFd: -1}},
		{name: "every mode", o: CriuOpts{ManageCgroupsMode: "ignore", StatusFd: -1}},
		{name: "bad mode", o: CriuOpts{ManageCgroupsMode: "loose"}, wantErr: `--manage-cgroups-mode: invalid value "loose"`},
		{name: "empty net", o: CriuOpts{EmptyNs: []string{"network"}}},
		{name: "empty pid", o: CriuOpts{EmptyNs: []string{"pid"}}, wantErr: `--empty-ns: namespace "pid" is not supported`},
		{name: "page server", o: CriuOpts{PageServer: "10.0.0.1:27277"}},
		{name: "page server v6", o: CriuOpts{PageServer: "[::1]:1"}},
		{name: "page server no port", o: CriuOpts{PageServer: "10.0.0.1"}, wantErr: "--page-server"},
		{name: "page server bad port", o: CriuOpts{PageServer: "h:99999"}, wantErr: `--page-server: invalid port "99999"`},
		{name: "parent", o: CriuOpts{ImagePath: images, ParentPath: "parent"}},
		{name: "parent absolute", o: CriuOpts{ImagePath: images, ParentPath: "/parent"}, wantErr: "--parent-path: must be relative"},
		{name: "parent missing", o: CriuOpts{ImagePath: images, ParentPath: "none"}, wantErr: "--parent-path: stat"},
		{name: "parent a file", o: CriuOpts{ImagePath: images, ParentPath: "file"}, wantErr: "not a directory"},
		{name: "status fd", o: CriuOpts{LazyPages: true, StatusFd: int(w.Fd())}},
		{name: "status fd read-only", o: CriuOpts{LazyPages: true, StatusFd: int(r.Fd())}, wantErr: "not open for writing"},
		{name: "status fd closed", o: CriuOpts{LazyPages: true, StatusFd: 999}, wantErr: "--status-fd 999"},
		{name: "status fd without lazy pages", o: CriuOpts{StatusFd: 999}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.validate()
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestCriuBaseRPC(t *testing.T) {
	tests := []struct {
		name       string
		o          CriuOpts
		ann        map[string]string
		wantConfig string
		wantMode   criurpc.CgMode
	}{
		{name: "default config", wantConfig: "/etc/criu/runc.conf", wantMode: criurpc.CgDefault},
		{name: "own config", ann: map[string]string{"org.criu.config": "/etc/mine.conf"}, wantConfig: "/etc/mine.conf", wantMode: criurpc.CgDefault},
		{name: "no config", ann: map[string]string{"org.criu.config": ""}, wantConfig: "", wantMode: criurpc.CgDefault},
		{name: "strict", o: CriuOpts{ManageCgroupsMode: "strict"}, wantConfig: "/etc/criu/runc.conf", wantMode: criurpc.CgStrict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.o.baseRPC(&specs.Spec{Annotations: tt.ann})
			if r.ConfigFile != tt.wantConfig {
				t.Errorf("config file %q, want %q", r.ConfigFile, tt.wantConfig)
			}
			if r.ManageCgroupsMode == nil || *r.ManageCgroupsMode != tt.wantMode {
				t.Errorf("cgroup mode %v, want %s", r.ManageCgroupsMode, tt.wantMode)
			}
			// rt configures no network devices: CRIU must not make any.
			if r.EmptyNs&unix.CLONE_NEWNET == 0 || !isTrue(r.OrphanPtsMaster) || !isTrue(r.NotifyScripts) {
				t.Errorf("empty_ns %#x, orphan_pts_master %v, notify_scripts %v", r.EmptyNs, r.OrphanPtsMaster, r.NotifyScripts)
			}
			// An option not asked for is sent false, not left out.
			for i, b := range []*bool{r.ShellJob, r.TCPEstablished, r.ExtUnixSk, r.FileLocks, r.AutoDedup, r.LazyPages} {
				if b == nil || *b {
					t.Errorf("option %d is %v, want false sent", i, b)
				}
			}
		})
	}
}

func isTrue(b *bool) bool { return b != nil && *b }

// externalMounts names each host mount by its mount point (symlinks
// resolved inside the rootfs), and gives the sources only for a restore.
func TestExternalMounts(t *testing.T) {
	bundle := t.TempDir()
	rootfs := filepath.Join(bundle, "rootfs")
	os.MkdirAll(filepath.Join(rootfs, "real/conf"), 0o755)
	os.Symlink("/real/conf", filepath.Join(rootfs, "conf"))
	spec := &specs.Spec{
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/conf", Type: "none", Source: ".", Options: []string{"rbind"}},
			{Destination: "/data", Type: "bind", Source: "/srv/data"},
			{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup"},
		},
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.CgroupNamespace}}},
	}
	for _, sources := range []bool{false, true} {
		ext, err := externalMounts(spec, rootfs, bundle, nil, sources)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, e := range ext {
			got[e.Key] = e.Val
		}
		want := map[string]string{"/real/conf": bundle, "/data": "/srv/data", "/dev/null": "/dev/null", "/dev/tty": "/dev/tty"}
		for k, v := range want {
			if !sources {
				v = k
			}
			if got[k] != v {
				t.Errorf("sources %v: %s -> %q, want %q", sources, k, got[k], v)
			}
		}
		// With a cgroup namespace the cgroup mount is the container's own.
		for k := range got {
			if strings.HasPrefix(k, "/sys/fs/cgroup") || k == "/proc" {
				t.Errorf("sources %v: %s described as external", sources, k)
			}
		}
	}
}

// The restored tree's time namespace is recorded only when it is not ours.
func TestWithRestoredTimeNamespace(t *testing.T) {
	spec := &specs.Spec{Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}}}}
	if got := withRestoredTimeNamespace(spec, os.Getpid()); got != spec {
		t.Errorf("our own time namespace recorded: %+v", got.Linux.Namespaces)
	}
}

func TestCgroupRoots(t *testing.T) {
	roots, err := cgroupRoots(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile("/proc/self/cgroup")
	for _, r := range roots {
		if !strings.Contains(string(data), r.Ctrl) || !strings.Contains(string(data), ":"+r.Path+"\n") {
			t.Errorf("root %s:%s not in /proc/self/cgroup:\n%s", r.Ctrl, r.Path, data)
		}
	}
	if len(roots) == 0 {
		t.Error("no cgroup roots")
	}
}
