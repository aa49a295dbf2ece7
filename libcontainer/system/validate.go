package system

import "github.com/opencontainers/runtime-spec/specs-go"

// ValidateProcess runs this package's validators on the fields of
// process it applies, so a bad config fails before anything is created;
// the setters run them again in the init. The fields of linux this package
// owns are checked by ValidateLinux.
func ValidateProcess(p *specs.Process) error {
	if p == nil {
		return nil
	}
	if err := ValidateUser(p.User); err != nil {
		return err
	}
	if err := ValidateRlimits(p.Rlimits); err != nil {
		return err
	}
	if p.OOMScoreAdj != nil {
		if err := ValidateOOMScoreAdj(*p.OOMScoreAdj); err != nil {
			return err
		}
	}
	if err := ValidateScheduler(p.Scheduler); err != nil {
		return err
	}
	if err := ValidateIOPriority(p.IOPriority); err != nil {
		return err
	}
	return ValidateExecCPUAffinity(p.ExecCPUAffinity)
}

// ValidateLinux checks the fields of linux this package applies:
// personality and memoryPolicy.
func ValidateLinux(l *specs.Linux) error {
	if l == nil {
		return nil
	}
	if err := ValidatePersonality(l.Personality); err != nil {
		return err
	}
	return ValidateMemoryPolicy(l.MemoryPolicy)
}
