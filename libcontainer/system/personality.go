package system

import (
	"errors"
	"fmt"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// From include/uapi/linux/personality.h.
var personalityDomainByName = map[specs.LinuxPersonalityDomain]uintptr{
	specs.PerLinux:   0x0000,
	specs.PerLinux32: 0x0008,
}

// The spec defines no flag names yet; these are the kernel's, accepted so
// that configs written for them work, and anything else is rejected.
var personalityFlagByName = map[specs.LinuxPersonalityFlag]uintptr{
	"UNAME26":            0x0020000,
	"ADDR_NO_RANDOMIZE":  0x0040000,
	"FDPIC_FUNCPTRS":     0x0080000,
	"MMAP_PAGE_ZERO":     0x0100000,
	"ADDR_COMPAT_LAYOUT": 0x0200000,
	"READ_IMPLIES_EXEC":  0x0400000,
	"ADDR_LIMIT_32BIT":   0x0800000,
	"SHORT_INODE":        0x1000000,
	"WHOLE_SECONDS":      0x2000000,
	"STICKY_TIMEOUTS":    0x4000000,
	"ADDR_LIMIT_3GB":     0x8000000,
}

// ValidatePersonality checks linux.personality.
func ValidatePersonality(p *specs.LinuxPersonality) error {
	if p == nil {
		return nil
	}
	_, err := personalityValue(p)
	return err
}

func personalityValue(p *specs.LinuxPersonality) (uintptr, error) {
	if p.Domain == "" {
		return 0, errors.New("linux.personality.domain: missing")
	}
	v, ok := personalityDomainByName[p.Domain]
	if !ok {
		return 0, fmt.Errorf("linux.personality.domain: unknown personality domain %q (LINUX or LINUX32)", p.Domain)
	}
	for i, f := range p.Flags {
		bit, ok := personalityFlagByName[f]
		if !ok {
			return 0, fmt.Errorf("linux.personality.flags[%d]: unknown personality flag %q", i, f)
		}
		v |= bit
	}
	return v, nil
}

// SetPersonality sets the execution domain of the calling thread; execve
// keeps it for the program (LINUX32 makes uname(2) report i686).
func SetPersonality(p *specs.LinuxPersonality) error {
	if p == nil {
		return nil
	}
	v, err := personalityValue(p)
	if err != nil {
		return err
	}
	if err := kernel.Personality(v); err != nil {
		return fmt.Errorf("linux.personality: personality(%#x): %w", v, err)
	}
	return nil
}
