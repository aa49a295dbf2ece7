package trace

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
)

// capture sends the standard logger to a buffer at level for the test.
func capture(t *testing.T, level logrus.Level, f logrus.Formatter) *bytes.Buffer {
	var buf bytes.Buffer
	std := logrus.StandardLogger()
	out, lvl, fmtr := std.Out, std.GetLevel(), std.Formatter
	std.SetOutput(&buf)
	std.SetLevel(level)
	std.SetFormatter(f)
	t.Cleanup(func() { std.SetOutput(out); std.SetLevel(lvl); std.SetFormatter(fmtr) })
	return &buf
}

func TestStepLogsWithDuration(t *testing.T) {
	buf := capture(t, logrus.DebugLevel, &logrus.JSONFormatter{})
	Start().Done("init: mounts[%d]: %s", 0, "proc on /proc")
	Log("seccomp filter flags: %d", 2)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("logged %q", buf.String())
	}
	for _, want := range []string{`"level":"debug"`, `"msg":"init: mounts[0]: proc on /proc"`, `"duration":"`} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("step %q lacks %s", lines[0], want)
		}
	}
	if !strings.Contains(lines[1], `"msg":"seccomp filter flags: 2"`) || strings.Contains(lines[1], "duration") {
		t.Errorf("point %q", lines[1])
	}
}

func TestOffLogsNothing(t *testing.T) {
	buf := capture(t, logrus.InfoLevel, &logrus.TextFormatter{})
	if Enabled() {
		t.Fatal("enabled at info level")
	}
	Start().Done("x %d", 1)
	Log("y")
	if buf.Len() != 0 {
		t.Errorf("logged %q", buf.String())
	}
	// Off, a step formats nothing and allocates nothing.
	if n := testing.AllocsPerRun(100, func() { Start().Done("init: %s", "static") }); n != 0 {
		t.Errorf("%v allocations per step with the trace off", n)
	}
}

func TestRound(t *testing.T) {
	if got := Round(1234567); got != "1.235ms" {
		t.Errorf("Round = %q", got)
	}
}
