package cgfs

import (
	"fmt"
	"sort"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// SetRdma writes one "dev hca_handle=N hca_object=M" line per device to
// rdma.max (same format in v1 and v2); unset counts are left as they are.
func SetRdma(dir string, rdma map[string]specs.LinuxRdma) error {
	devs := make([]string, 0, len(rdma))
	for d := range rdma {
		devs = append(devs, d)
	}
	sort.Strings(devs)
	for _, d := range devs {
		l := rdma[d]
		var b strings.Builder
		b.WriteString(d)
		if l.HcaHandles != nil {
			fmt.Fprintf(&b, " hca_handle=%d", *l.HcaHandles)
		}
		if l.HcaObjects != nil {
			fmt.Fprintf(&b, " hca_object=%d", *l.HcaObjects)
		}
		if l.HcaHandles == nil && l.HcaObjects == nil {
			continue
		}
		if err := Write(dir, "rdma.max", b.String()); err != nil {
			return fmt.Errorf("linux.resources.rdma[%q]: %w", d, err)
		}
	}
	return nil
}
