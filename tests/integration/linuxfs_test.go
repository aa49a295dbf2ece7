package integration

import (
	"os"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestMaskedPaths(t *testing.T) {
	b := newBundle(t, "sh", "-c", `echo "kcore=[$(head -c 10 /proc/kcore | wc -c)]"; echo "secret=[$(cat /secret.txt)]"; echo "dir=[$(ls /secretdir)]"; touch /secretdir/x 2>&1; echo "missing-ok"`)
	os.WriteFile(b.Rootfs+"/secret.txt", []byte("top secret"), 0o644)
	os.MkdirAll(b.Rootfs+"/secretdir", 0o755)
	os.WriteFile(b.Rootfs+"/secretdir/a", []byte("a"), 0o644)
	b.Spec.Linux.MaskedPaths = append(b.Spec.Linux.MaskedPaths, "/secret.txt", "/secretdir", "/does/not/exist")
	out := b.output()
	for _, w := range []string{"kcore=[0]", "secret=[]", "dir=[]", "/secretdir/x: Read-only file system", "missing-ok"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestReadonlyPaths(t *testing.T) {
	b := newBundle(t, "sh", "-c", `{ echo 1 > /proc/sys/kernel/domainname; } 2>&1; touch /data/f 2>&1; touch /data/sub/f 2>&1; cat /data/file; touch /tmp/ok && echo tmp-writable`)
	os.MkdirAll(b.Rootfs+"/data/sub", 0o755)
	os.WriteFile(b.Rootfs+"/data/file", []byte("readable\n"), 0o644)
	b.Spec.Root.Readonly = false
	b.Spec.Linux.ReadonlyPaths = append(b.Spec.Linux.ReadonlyPaths, "/data", "/nonexistent")
	out := b.output()
	for _, w := range []string{"/proc/sys/kernel/domainname: Read-only file system", "/data/f: Read-only file system", "/data/sub/f: Read-only file system", "readable", "tmp-writable"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestSysctl(t *testing.T) {
	b := newBundle(t, "sh", "-c", `cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax`)
	b.Spec.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "123456789"}
	out := b.output()
	if out != "1\n123456789\n" {
		t.Errorf("sysctls inside: %q", out)
	}
	host, _ := os.ReadFile("/proc/sys/kernel/shmmax")
	if strings.TrimSpace(string(host)) == "123456789" {
		t.Errorf("kernel.shmmax changed on the host")
	}
}

func TestSysctlRefused(t *testing.T) {
	tests := []struct {
		name   string
		sysctl map[string]string
		nsDrop specs.LinuxNamespaceType
		want   string
	}{
		// The network stack is the host's without a network namespace.
		{"net-without-netns", map[string]string{"net.ipv4.ip_forward": "1"}, specs.NetworkNamespace, "net.ipv4.ip_forward"},
		{"ipc-without-ipcns", map[string]string{"kernel.msgmax": "8192"}, specs.IPCNamespace, "kernel.msgmax"},
		// Not namespaced at all.
		{"host-wide", map[string]string{"vm.swappiness": "10"}, "", "vm.swappiness"},
		{"hostname-without-utsns", map[string]string{"kernel.hostname": "x"}, specs.UTSNamespace, "kernel.hostname"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t)
			b.Spec.Linux.Sysctl = tc.sysctl
			if tc.nsDrop != "" {
				var kept []specs.LinuxNamespace
				for _, ns := range b.Spec.Linux.Namespaces {
					if ns.Type != tc.nsDrop {
						kept = append(kept, ns)
					}
				}
				b.Spec.Linux.Namespaces = kept
				if tc.nsDrop == specs.UTSNamespace {
					b.Spec.Hostname = ""
				}
			}
			b.write()
			r := b.rt("create", "--bundle", b.Dir, b.ID)
			if r.Code == 0 || !strings.Contains(r.Stderr, "linux.sysctl") || !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("create: %s, want an error naming linux.sysctl %s", r, tc.want)
			}
			assertNoLeaks(t, b, 0)
		})
	}
}

func TestHostnameDomainname(t *testing.T) {
	b := newBundle(t, "sh", "-c", `hostname; cat /proc/sys/kernel/domainname`)
	b.Spec.Hostname = "box1"
	b.Spec.Domainname = "example.org"
	hostBefore, _ := os.Hostname()
	out := b.output()
	if out != "box1\nexample.org\n" {
		t.Errorf("inside: %q", out)
	}
	if h, _ := os.Hostname(); h != hostBefore {
		t.Errorf("host hostname changed to %s", h)
	}
}

func TestPersonality(t *testing.T) {
	b := newBundle(t, "uname", "-m")
	b.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32}
	if out := b.output(); out != "i686\n" {
		t.Errorf("uname -m with LINUX32: %q", out)
	}
	// The flags are the kernel's (personality.h); /proc/self/personality
	// shows them with the domain.
	b = newBundle(t, "cat", "/proc/self/personality")
	b.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32, Flags: []specs.LinuxPersonalityFlag{"ADDR_NO_RANDOMIZE"}}
	if out := b.output(); out != "00040008\n" {
		t.Errorf("personality with LINUX32 and ADDR_NO_RANDOMIZE: %q", out)
	}
	b = newBundle(t, "uname", "-m")
	b.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: "LINUX64"}
	b.write()
	if r := b.rt("create", "--bundle", b.Dir, b.ID); r.Code == 0 || !strings.Contains(r.Stderr, "linux.personality") {
		t.Errorf("unknown personality domain: %s", r)
	}
	assertNoLeaks(t, b, 0)
}

func TestTimeOffsets(t *testing.T) {
	b := newBundle(t, "sh", "-c", `cut -d. -f1 /proc/uptime; cat /proc/self/timens_offsets`)
	b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
	b.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{
		"monotonic": {Secs: 86400 * 365},
		"boottime":  {Secs: 86400 * 400, Nanosecs: 5},
	}
	out := b.output()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 3 {
		t.Fatalf("output: %q", out)
	}
	var hostUp float64
	if data, err := os.ReadFile("/proc/uptime"); err == nil {
		f := strings.Fields(string(data))
		hostUp = parseFloat(f[0])
	}
	if up := parseFloat(lines[0]); up < hostUp+86400*400-10 {
		t.Errorf("uptime inside %v, host %v: boottime offset not applied", up, hostUp)
	}
	norm := strings.Join(strings.Fields(strings.Join(lines[1:], " ")), " ")
	if !strings.Contains(norm, "monotonic 31536000 0") || !strings.Contains(norm, "boottime 34560000 5") {
		t.Errorf("timens_offsets inside: %s", out)
	}
}

func parseFloat(s string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f
}
