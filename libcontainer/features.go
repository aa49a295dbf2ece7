package libcontainer

import (
	"github.com/opencontainers/runtime-spec/specs-go/features"
)

// Features is what `rt features` reports.
func Features() *features.Features {
	return &features.Features{}
}
