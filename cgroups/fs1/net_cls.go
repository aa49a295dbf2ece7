package fs1

import (
	"fmt"
	"strconv"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

func wantsNetCls(r *specs.LinuxResources) string {
	if r.Network != nil && r.Network.ClassID != nil {
		return "network.classID"
	}
	return ""
}

func setNetCls(dir string, r *specs.LinuxResources) error {
	if r.Network == nil || r.Network.ClassID == nil {
		return nil
	}
	if err := cgfs.Write(dir, "net_cls.classid", strconv.FormatUint(uint64(*r.Network.ClassID), 10)); err != nil {
		return fmt.Errorf("linux.resources.network.classID: %w", err)
	}
	return nil
}
