package fs2

import (
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

func (m *Manager) setRdma(r *specs.LinuxResources) error {
	if len(r.Rdma) == 0 {
		return nil
	}
	if err := m.require("rdma", "rdma"); err != nil {
		return err
	}
	return cgfs.SetRdma(m.c.Dir, r.Rdma)
}
