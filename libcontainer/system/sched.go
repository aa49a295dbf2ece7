package system

import (
	"errors"
	"fmt"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

var schedPolicyByName = map[specs.LinuxSchedulerPolicy]uint32{
	specs.SchedOther:    0,
	specs.SchedFIFO:     1,
	specs.SchedRR:       2,
	specs.SchedBatch:    3,
	specs.SchedIdle:     5,
	specs.SchedDeadline: 6,
}

var schedFlagByName = map[specs.LinuxSchedulerFlag]uint64{
	specs.SchedFlagResetOnFork:  unix.SCHED_FLAG_RESET_ON_FORK,
	specs.SchedFlagReclaim:      unix.SCHED_FLAG_RECLAIM,
	specs.SchedFlagDLOverrun:    unix.SCHED_FLAG_DL_OVERRUN,
	specs.SchedFlagKeepPolicy:   unix.SCHED_FLAG_KEEP_POLICY,
	specs.SchedFlagKeepParams:   unix.SCHED_FLAG_KEEP_PARAMS,
	specs.SchedFlagUtilClampMin: unix.SCHED_FLAG_UTIL_CLAMP_MIN,
	specs.SchedFlagUtilClampMax: unix.SCHED_FLAG_UTIL_CLAMP_MAX,
}

// The kernel keeps SCHED_DEADLINE runtimes in units of 2^10 ns and
// rejects anything shorter, and any time with the top bit set.
const (
	minDeadlineRuntime = 1 << 10
	maxDeadlineTime    = 1 << 63
)

// ValidateScheduler checks process.scheduler against the rules
// sched_setattr(2) enforces, so a bad config fails before init starts.
func ValidateScheduler(s *specs.Scheduler) error {
	if s == nil {
		return nil
	}
	_, err := schedAttr(s)
	return err
}

func schedAttr(s *specs.Scheduler) (*unix.SchedAttr, error) {
	switch s.Policy {
	case "":
		return nil, errors.New("process.scheduler.policy: missing")
	case specs.SchedISO:
		return nil, fmt.Errorf("process.scheduler.policy: %s is reserved but not implemented by Linux", s.Policy)
	}
	policy, ok := schedPolicyByName[s.Policy]
	if !ok {
		return nil, fmt.Errorf("process.scheduler.policy: unknown scheduling policy %q", s.Policy)
	}
	attr := &unix.SchedAttr{Policy: policy, Nice: s.Nice}
	for i, f := range s.Flags {
		bit, ok := schedFlagByName[f]
		if !ok {
			return nil, fmt.Errorf("process.scheduler.flags[%d]: unknown scheduling flag %q", i, f)
		}
		attr.Flags |= bit
	}
	if s.Nice < -20 || s.Nice > 19 {
		return nil, fmt.Errorf("process.scheduler.nice: %d is outside -20..19", s.Nice)
	}
	realtime := s.Policy == specs.SchedFIFO || s.Policy == specs.SchedRR
	switch {
	case realtime && (s.Priority < 1 || s.Priority > 99):
		return nil, fmt.Errorf("process.scheduler.priority: %s needs a priority in 1..99, not %d", s.Policy, s.Priority)
	case !realtime && s.Priority != 0:
		return nil, fmt.Errorf("process.scheduler.priority: only SCHED_FIFO and SCHED_RR take a priority; %s needs 0, not %d", s.Policy, s.Priority)
	}
	attr.Priority = uint32(s.Priority)

	if s.Policy != specs.SchedDeadline {
		if s.Runtime != 0 || s.Deadline != 0 || s.Period != 0 {
			return nil, fmt.Errorf("process.scheduler: runtime, deadline and period are only for SCHED_DEADLINE, not %s", s.Policy)
		}
		return attr, nil
	}
	period := s.Period
	if period == 0 {
		period = s.Deadline // the kernel's default
	}
	switch {
	case s.Deadline == 0:
		return nil, errors.New("process.scheduler.deadline: SCHED_DEADLINE needs a deadline")
	case s.Runtime < minDeadlineRuntime:
		return nil, fmt.Errorf("process.scheduler.runtime: %d ns is below the kernel's minimum of %d ns", s.Runtime, minDeadlineRuntime)
	case s.Runtime > s.Deadline:
		return nil, fmt.Errorf("process.scheduler.runtime: %d ns is above the deadline %d ns", s.Runtime, s.Deadline)
	case s.Deadline > period:
		return nil, fmt.Errorf("process.scheduler.deadline: %d ns is above the period %d ns", s.Deadline, period)
	case period >= maxDeadlineTime:
		return nil, fmt.Errorf("process.scheduler.period: %d ns is too large", period)
	}
	attr.Runtime, attr.Deadline, attr.Period = s.Runtime, s.Deadline, s.Period
	return attr, nil
}

// SetScheduler applies process.scheduler to the calling thread with
// sched_setattr(2). Real-time and deadline policies and negative nice
// values need CAP_SYS_NICE, so run it before the capabilities are dropped.
//
// A SCHED_DEADLINE thread may not fork; Go creates threads for a locked
// thread from its template thread, so init survives, but set it late.
// The UTIL_CLAMP flags take their values from sched_util_min/max, which
// the spec has no fields for: they are passed as 0.
func SetScheduler(s *specs.Scheduler) error {
	if s == nil {
		return nil
	}
	attr, err := schedAttr(s)
	if err != nil {
		return err
	}
	if err := kernel.SchedSetAttr(0, attr, 0); err != nil {
		if errors.Is(err, unix.EPERM) {
			return fmt.Errorf("process.scheduler: sched_setattr policy %s nice %d priority %d: %w (needs CAP_SYS_NICE or a higher RLIMIT_RTPRIO/RLIMIT_NICE)", s.Policy, s.Nice, s.Priority, err)
		}
		return fmt.Errorf("process.scheduler: sched_setattr policy %s nice %d priority %d: %w", s.Policy, s.Nice, s.Priority, err)
	}
	return nil
}
