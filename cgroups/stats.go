package cgroups

import "github.com/rtproject/rt/cgroups/internal/cgfs"

// The stats types live in the drivers' shared package (the drivers cannot
// import this one, which imports them); these aliases are their public
// names. JSON names match `runc events --stats`.
type (
	Stats            = cgfs.Stats
	CPU              = cgfs.CPU
	CPUUsage         = cgfs.CPUUsage
	Throttling       = cgfs.Throttling
	CPUSet           = cgfs.CPUSet
	Memory           = cgfs.Memory
	MemoryEntry      = cgfs.MemoryEntry
	Pids             = cgfs.Pids
	Blkio            = cgfs.Blkio
	BlkioEntry       = cgfs.BlkioEntry
	Hugetlb          = cgfs.Hugetlb
	PSIStats         = cgfs.PSIStats
	PSIData          = cgfs.PSIData
	IntelRdt         = cgfs.IntelRdt
	NetworkInterface = cgfs.NetworkInterface
)
