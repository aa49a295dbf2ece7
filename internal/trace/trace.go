// Package trace is rt's start-up trace: with --debug, each step of create,
// start, exec and of the container's init is logged at debug level with how
// long it took, so that an operator sees what rt did and where it stopped.
//
// The entries go wherever rt's log goes (stderr or --log, text or json);
// the init's reach rt over the init socket. With --debug off a step costs a
// clock read and a level check: nothing is formatted.
package trace

import (
	"fmt"
	"time"

	"github.com/sirupsen/logrus"
)

// DurationKey is the log field holding a step's duration.
const DurationKey = "duration"

// Enabled reports whether steps are logged. Callers check it before doing
// work that only the trace needs (listing mounts, say).
func Enabled() bool {
	return logrus.IsLevelEnabled(logrus.DebugLevel)
}

// Step is a step under way, started by Start.
type Step struct {
	start time.Time
}

// Start begins timing a step.
func Start() Step {
	return Step{start: time.Now()}
}

// Done logs the step as finished, with the time since Start. The message is
// formatted only when the trace is on.
func (s Step) Done(format string, args ...any) {
	if !Enabled() {
		return
	}
	d := time.Since(s.start)
	logrus.WithField(DurationKey, Round(d)).Debug(fmt.Sprintf(format, args...))
}

// Log logs a point in the start-up that has no duration of its own.
func Log(format string, args ...any) {
	if !Enabled() {
		return
	}
	logrus.Debug(fmt.Sprintf(format, args...))
}

// Round gives d as a readable string precise to the microsecond ("1.234ms").
func Round(d time.Duration) string {
	return d.Round(time.Microsecond).String()
}
