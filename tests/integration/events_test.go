package integration

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestEventsOOM: an OOM kill in the container shows as an "oom" event in
// the stream, with stats events before it, and the stream ends once the
// OOM-killed init is gone.
func TestEventsOOM(t *testing.T) {
	// tail buffers a line that never ends: it grows until the OOM killer
	// takes it, and as the init that stops the container.
	b := newBundle(t, "sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.1; done; exec tail /dev/zero")
	b.Spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: ptr(int64(8 << 20)), Swap: ptr(int64(8 << 20))}
	b.create()
	b.mustRT("start", b.ID)

	cmd := exec.Command(rtBinary, "--root", b.Root, "events", "--interval", "200ms", b.ID)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	events := make(chan event)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev event
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Errorf("events line %q: %v", sc.Text(), err)
				continue
			}
			events <- ev
		}
	}()

	counts := map[string]int{}
	timeout := time.After(60 * time.Second)
	released := false
loop:
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				break loop
			}
			if ev.ID != b.ID {
				t.Errorf("event for id %q", ev.ID)
			}
			counts[ev.Type]++
			// Let the container allocate once the stream is known to run.
			if ev.Type == "stats" && !released {
				released = true
				if err := os.WriteFile(filepath.Join(b.Rootfs, "tmp/go"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		case <-timeout:
			t.Fatalf("events stream did not end after the OOM kill; got %v", counts)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("rt events: %v", err)
	}
	if counts["stats"] == 0 || counts["oom"] == 0 {
		t.Errorf("events %v: want stats and oom", counts)
	}
	if st := b.status(); st != "stopped" {
		t.Errorf("after the OOM kill: %s", st)
	}
	b.remove()
	assertCgroupsGone(t, b)
}
