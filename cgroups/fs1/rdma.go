package fs1

import (
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

func wantsRdma(r *specs.LinuxResources) string {
	if len(r.Rdma) > 0 {
		return "rdma"
	}
	return ""
}

// setRdma: v1 and v2 share rdma.max's format.
func setRdma(dir string, r *specs.LinuxResources) error {
	return cgfs.SetRdma(dir, r.Rdma)
}
