package integration

import (
	"strings"
	"testing"
)

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"success", []string{"true"}, 0},
		{"exit-3", []string{"sh", "-c", "exit 3"}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, tc.args...)
			r := b.run()
			if r.Code != tc.code {
				t.Fatalf("rt run: %s, want exit %d", r, tc.code)
			}
			assertNoLeaks(t, b, 0)
		})
	}
}

func TestRunKilledExitCode(t *testing.T) {
	b := newBundle(t, "sleep", "100")
	done := make(chan result, 1)
	go func() { done <- b.run() }()
	b.waitStatus("running")
	b.mustRT("kill", b.ID, "KILL")
	if r := <-done; r.Code != 137 {
		t.Fatalf("rt run of a killed container: %s, want exit 137", r)
	}
	assertNoLeaks(t, b, 0)
}

func TestCreateStartStateDelete(t *testing.T) {
	b := newBundle(t, "sleep", "100")
	b.create()
	if st := b.status(); st != "created" {
		t.Fatalf("after create: %s", st)
	}
	pid := b.pid()
	b.mustRT("start", b.ID)
	if st := b.status(); st != "running" {
		t.Fatalf("after start: %s", st)
	}
	if r := b.rt("start", b.ID); r.Code == 0 || !strings.Contains(r.Stderr, "running") {
		t.Errorf("second start: %s", r)
	}
	if r := b.rt("delete", b.ID); r.Code == 0 || !strings.Contains(r.Stderr, "not stopped") {
		t.Errorf("delete of a running container: %s", r)
	}
	b.mustRT("kill", b.ID, "KILL")
	b.waitStatus("stopped")
	if r := b.rt("kill", b.ID, "TERM"); r.Code == 0 {
		t.Errorf("kill of a stopped container succeeded: %s", r)
	}
	b.mustRT("delete", b.ID)
	assertNoLeaks(t, b, pid)
	if r := b.rt("state", b.ID); r.Code == 0 {
		t.Errorf("state after delete: %s", r)
	}
}
