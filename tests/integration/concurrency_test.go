package integration

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Concurrency (issue 12): many containers through their whole life side by
// side under one --root, and many commands on one container at once. No
// command may fail for another's sake, hang, or leave a corrupt state; every
// result must agree with the container's final state.

// TestConcurrentLifecycles: 50 containers created, started, exec'd into,
// killed and deleted in parallel under one --root, twice.
func TestConcurrentLifecycles(t *testing.T) {
	const n = 50
	var bundles []*bundle
	for i := 0; i < n; i++ {
		b := newBundle(t, "sleep", "1000")
		b.write()
		bundles = append(bundles, b)
	}
	root := bundles[0].Root
	for round := 1; round <= 2; round++ {
		start := time.Now()
		errs := make(chan string, n)
		var wg sync.WaitGroup
		for _, b := range bundles {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := lifecycle(b); err != "" {
					errs <- fmt.Sprintf("round %d, %s: %s", round, b.ID, err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		t.Logf("round %d: %d containers in %s", round, n, time.Since(start).Round(time.Millisecond))
		if entries := checkList(t, root); len(entries) != 0 {
			t.Errorf("round %d: rt list after every delete: %v", round, entries)
		}
		for _, b := range bundles {
			assertNoLeaks(t, b, 0)
		}
		if t.Failed() {
			return
		}
	}
}

// lifecycle takes one container through create, start, exec, kill and
// delete, checking the state between steps; it returns what went wrong.
func lifecycle(b *bundle) string {
	step := func(want int, args ...string) (result, string) {
		r := runRTWithin(2*within, b.Root, args...)
		if r.Code != want {
			return r, fmt.Sprintf("rt %s: %s", strings.Join(args, " "), r)
		}
		return r, ""
	}
	status := func() string {
		r := runRTWithin(within, b.Root, "state", b.ID)
		var st struct{ Status string }
		if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &st) != nil {
			return "state: " + r.String()
		}
		return st.Status
	}
	if _, err := step(0, "create", "--bundle", b.Dir, b.ID); err != "" {
		return err
	}
	if st := status(); st != "created" {
		return "after create: " + st
	}
	if _, err := step(0, "start", b.ID); err != "" {
		return err
	}
	if st := status(); st != "running" {
		return "after start: " + st
	}
	if r, err := step(0, "exec", b.ID, "echo", "exec-ok"); err != "" || !strings.Contains(r.Stdout, "exec-ok") {
		return "exec: " + err + r.String()
	}
	if _, err := step(0, "kill", b.ID, "KILL"); err != "" {
		return err
	}
	for deadline := time.Now().Add(within); status() != "stopped"; {
		if time.Now().After(deadline) {
			return "not stopped after kill KILL: " + status()
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := step(0, "delete", b.ID); err != "" {
		return err
	}
	if r := runRTWithin(within, b.Root, "state", b.ID); r.Code == 0 {
		return "state after delete: " + r.String()
	}
	return ""
}

// op is one command of TestConcurrentOneContainer and what it saw.
type op struct {
	args       []string
	r          result
	begin, end time.Time
	status     string // state's status; "absent" when the container was gone
}

// TestConcurrentOneContainer: 20 state, kill, delete and exec commands at
// once on one container, several times: none hangs or fails for a reason
// other than the container's state at the time; a state is always whole;
// once a command saw the container stopped or gone no later one sees it run,
// and once a delete succeeded it is gone for every later command.
func TestConcurrentOneContainer(t *testing.T) {
	mixes := [][]string{
		{"state", "exec", "kill", "state", "exec", "delete", "state", "exec", "kill", "state"},
		{"exec", "exec", "state", "delete-force", "state", "exec", "kill", "state", "state", "exec"},
		{"kill", "state", "exec", "delete", "state", "kill", "exec", "delete-force", "state", "state"},
	}
	for i, mix := range mixes {
		t.Run(fmt.Sprintf("mix-%d", i), func(t *testing.T) {
			b := newBundle(t, "sleep", "1000")
			b.start()
			ns := containerNS(b)
			var ops []*op
			for j := 0; j < 20; j++ {
				var args []string
				switch mix[j%len(mix)] {
				case "state":
					args = []string{"state", b.ID}
				case "exec":
					args = []string{"exec", b.ID, "true"}
				case "kill":
					args = []string{"kill", b.ID, "KILL"}
				case "delete":
					args = []string{"delete", b.ID}
				case "delete-force":
					args = []string{"delete", "--force", b.ID}
				}
				ops = append(ops, &op{args: args})
			}
			var wg sync.WaitGroup
			for _, o := range ops {
				wg.Add(1)
				go func() {
					defer wg.Done()
					o.begin = time.Now()
					o.r = b.rtIn(2*within, o.args...)
					o.end = time.Now()
				}()
			}
			wg.Wait()
			checkConcurrentResults(t, b, ops)
			// Whatever is left goes; nothing of the container may remain.
			if r := b.rtIn(within, "delete", "--force", b.ID); r.Code != 0 {
				t.Errorf("final delete --force: %s", r)
			}
			assertGone(t, b, ns, "after the concurrent commands")
		})
	}
}

// checkConcurrentResults checks each result alone, then their order.
func checkConcurrentResults(t *testing.T, b *bundle, ops []*op) {
	t.Helper()
	gone := func(r result) bool { return strings.Contains(r.Stderr, "does not exist") }
	final := "absent"
	if r := b.rt("state", b.ID); r.Code == 0 {
		final = b.status()
	}
	for _, o := range ops {
		cmd := strings.Join(o.args, " ")
		if strings.Contains(o.r.Stderr, "HUNG") {
			t.Errorf("rt %s hung", cmd)
			continue
		}
		switch o.args[0] {
		case "state":
			if o.r.Code != 0 {
				if !gone(o.r) {
					t.Errorf("rt %s: %s", cmd, o.r)
				}
				o.status = "absent"
				continue
			}
			var st map[string]any
			if err := json.Unmarshal([]byte(o.r.Stdout), &st); err != nil || st["id"] != b.ID {
				t.Errorf("rt %s: corrupt state %q (%v)", cmd, o.r.Stdout, err)
				continue
			}
			o.status, _ = st["status"].(string)
			if o.status != "running" && o.status != "stopped" {
				t.Errorf("rt %s: status %q", cmd, o.status)
			}
		case "exec":
			// Into a running container it works; racing a kill it may
			// fail, but only when the container did not stay running.
			if o.r.Code != 0 && final == "running" {
				t.Errorf("rt %s: %s, though the container still runs", cmd, o.r)
			}
		case "kill":
			if o.r.Code != 0 && !gone(o.r) && !strings.Contains(o.r.Stderr, "container not running") {
				t.Errorf("rt %s: %s", cmd, o.r)
			}
		case "delete":
			if o.r.Code != 0 && !gone(o.r) && !strings.Contains(o.r.Stderr, "that is not stopped") {
				t.Errorf("rt %s: %s", cmd, o.r)
			}
		}
	}
	// Order: what a command saw when it finished binds every command
	// begun after: once gone, nothing finds the container (delete --force
	// of nothing is no error); once stopped, nothing sees it run.
	for _, a := range ops {
		deleted := (a.args[0] == "delete" && a.r.Code == 0) || a.status == "absent"
		stopped := deleted || a.status == "stopped"
		for _, c := range ops {
			if !c.begin.After(a.end) {
				continue
			}
			cmd := strings.Join(c.args, " ")
			if deleted && c.r.Code == 0 && cmd != "delete --force "+b.ID {
				t.Errorf("rt %s succeeded after rt %s found the container gone: %s", cmd, strings.Join(a.args, " "), c.r)
			}
			if stopped && (c.status == "running" || (c.args[0] == "exec" && c.r.Code == 0)) {
				t.Errorf("rt %s saw the container run after rt %s saw it stopped", cmd, strings.Join(a.args, " "))
			}
		}
	}
	if final == "running" {
		t.Errorf("the container still runs after %d kills", len(ops))
	}
}
