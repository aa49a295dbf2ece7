package seccomp

import (
	"slices"

	"github.com/opencontainers/runtime-spec/specs-go/features"
	libseccomp "github.com/seccomp/libseccomp-golang"
)

// Features reports what rt supports on the running kernel and libseccomp,
// for `rt features`.
func Features() *features.Seccomp {
	enabled := true
	f := &features.Seccomp{
		Enabled:    &enabled,
		Actions:    sortedKeys(actions),
		Operators:  sortedKeys(operators),
		Archs:      supportedArchs(),
		KnownFlags: sortedKeys(flags),
	}
	f.SupportedFlags = []string{}
	for _, name := range f.KnownFlags {
		for known, bit := range flags {
			if string(known) == name && flagSupported(bit) {
				f.SupportedFlags = append(f.SupportedFlags, name)
			}
		}
	}
	return f
}

// supportedArchs lists the architectures the linked libseccomp can build
// filters for (older versions lack some that rt knows by name).
func supportedArchs() []string {
	filter, err := libseccomp.NewFilter(libseccomp.ActAllow)
	if err != nil {
		return sortedKeys(archs)
	}
	defer filter.Release()
	var out []string
	for name, a := range archs {
		if filter.AddArch(a) == nil {
			out = append(out, string(name))
		}
	}
	slices.Sort(out)
	return out
}
