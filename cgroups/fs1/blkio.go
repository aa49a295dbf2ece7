package fs1

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

func wantsBlkio(r *specs.LinuxResources) string {
	b := r.BlockIO
	switch {
	case b == nil:
		return ""
	case b.Weight != nil:
		return "blockIO.weight"
	case b.LeafWeight != nil:
		return "blockIO.leafWeight"
	case len(b.WeightDevice) > 0:
		return "blockIO.weightDevice"
	case len(b.ThrottleReadBpsDevice) > 0:
		return "blockIO.throttleReadBpsDevice"
	case len(b.ThrottleWriteBpsDevice) > 0:
		return "blockIO.throttleWriteBpsDevice"
	case len(b.ThrottleReadIOPSDevice) > 0:
		return "blockIO.throttleReadIOPSDevice"
	case len(b.ThrottleWriteIOPSDevice) > 0:
		return "blockIO.throttleWriteIOPSDevice"
	}
	return ""
}

// weightFile picks the CFQ file, or BFQ's when CFQ is gone (kernels since
// 5.0 have only BFQ, which takes the same 10..1000 scale).
func weightFile(dir, cfq, bfq string) string {
	if cgfs.Exists(dir, cfq) {
		return cfq
	}
	if bfq != "" && cgfs.Exists(dir, bfq) {
		return bfq
	}
	return ""
}

func setBlkio(dir string, r *specs.LinuxResources) error {
	b := r.BlockIO
	if b == nil {
		return nil
	}
	if b.Weight != nil {
		f := weightFile(dir, "blkio.weight", "blkio.bfq.weight")
		if f == "" {
			return fmt.Errorf("linux.resources.blockIO.weight: this kernel has no blkio weight (no blkio.weight or blkio.bfq.weight in %s)", dir)
		}
		if err := cgfs.Write(dir, f, strconv.FormatUint(uint64(*b.Weight), 10)); err != nil {
			return fmt.Errorf("linux.resources.blockIO.weight: %w", err)
		}
	}
	if b.LeafWeight != nil {
		if !cgfs.Exists(dir, "blkio.leaf_weight") {
			return fmt.Errorf("linux.resources.blockIO.leafWeight: this kernel has no blkio.leaf_weight")
		}
		if err := cgfs.Write(dir, "blkio.leaf_weight", strconv.FormatUint(uint64(*b.LeafWeight), 10)); err != nil {
			return fmt.Errorf("linux.resources.blockIO.leafWeight: %w", err)
		}
	}
	for i, d := range b.WeightDevice {
		if d.Weight != nil {
			field := fmt.Sprintf("linux.resources.blockIO.weightDevice[%d].weight", i)
			f := weightFile(dir, "blkio.weight_device", "blkio.bfq.weight_device")
			if f == "" {
				return fmt.Errorf("%s: this kernel has no per-device blkio weight", field)
			}
			if err := cgfs.Write(dir, f, fmt.Sprintf("%d:%d %d", d.Major, d.Minor, *d.Weight)); err != nil {
				return fmt.Errorf("%s: %w", field, err)
			}
		}
		if d.LeafWeight != nil {
			field := fmt.Sprintf("linux.resources.blockIO.weightDevice[%d].leafWeight", i)
			if !cgfs.Exists(dir, "blkio.leaf_weight_device") {
				return fmt.Errorf("%s: this kernel has no blkio.leaf_weight_device", field)
			}
			if err := cgfs.Write(dir, "blkio.leaf_weight_device", fmt.Sprintf("%d:%d %d", d.Major, d.Minor, *d.LeafWeight)); err != nil {
				return fmt.Errorf("%s: %w", field, err)
			}
		}
	}
	for _, t := range []struct {
		field, file string
		devs        []specs.LinuxThrottleDevice
	}{
		{"throttleReadBpsDevice", "blkio.throttle.read_bps_device", b.ThrottleReadBpsDevice},
		{"throttleWriteBpsDevice", "blkio.throttle.write_bps_device", b.ThrottleWriteBpsDevice},
		{"throttleReadIOPSDevice", "blkio.throttle.read_iops_device", b.ThrottleReadIOPSDevice},
		{"throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", b.ThrottleWriteIOPSDevice},
	} {
		for i, d := range t.devs {
			if err := cgfs.Write(dir, t.file, fmt.Sprintf("%d:%d %d", d.Major, d.Minor, d.Rate)); err != nil {
				return fmt.Errorf("linux.resources.blockIO.%s[%d]: %w", t.field, i, err)
			}
		}
	}
	return nil
}

// blkioCounters are the files of each I/O layer that count a cgroup's I/O,
// in the order runc reads them. A scheduler's files exist, empty, when no
// device uses that scheduler (bfq on a disk with "none", as on most VMs):
// only the throttle layer counts on every kernel.
var blkioCounters = []struct{ serviceBytes, serviced string }{
	{"blkio.bfq.io_service_bytes_recursive", "blkio.bfq.io_serviced_recursive"},
	{"blkio.io_service_bytes_recursive", "blkio.io_serviced_recursive"}, // cfq, before Linux 5.0
	{"blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_serviced_recursive"},
	{"blkio.throttle.io_service_bytes", "blkio.throttle.io_serviced"}, // kernels without the recursive files
}

func statsBlkio(dir string, s *cgfs.Stats) error {
	for _, c := range blkioCounters {
		if !cgfs.Exists(dir, c.serviceBytes) {
			continue
		}
		bytes, err := readBlkioEntries(dir, c.serviceBytes)
		if err != nil {
			return err
		}
		if len(bytes) == 0 {
			continue
		}
		s.Blkio.IoServiceBytesRecursive = bytes
		if s.Blkio.IoServicedRecursive, err = readBlkioEntries(dir, c.serviced); err != nil {
			return err
		}
		if c.serviceBytes == "blkio.io_service_bytes_recursive" {
			for _, f := range []struct {
				file string
				dst  *[]cgfs.BlkioEntry
			}{
				{"blkio.io_queued_recursive", &s.Blkio.IoQueuedRecursive},
				{"blkio.io_service_time_recursive", &s.Blkio.IoServiceTimeRecursive},
				{"blkio.io_wait_time_recursive", &s.Blkio.IoWaitTimeRecursive},
				{"blkio.io_merged_recursive", &s.Blkio.IoMergedRecursive},
				{"blkio.time_recursive", &s.Blkio.IoTimeRecursive},
				{"blkio.sectors_recursive", &s.Blkio.SectorsRecursive},
			} {
				*f.dst, _ = readBlkioEntries(dir, f.file)
			}
		}
		return nil
	}
	return nil
}

// readBlkioEntries parses "maj:min [Op] value" lines; the "Total" line is
// dropped as runc does.
func readBlkioEntries(dir, file string) ([]cgfs.BlkioEntry, error) {
	content, err := cgfs.Read(dir, file)
	if err != nil {
		return nil, err
	}
	var out []cgfs.BlkioEntry
	sc := bufio.NewScanner(strings.NewReader(content))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] == "Total" {
			continue
		}
		var e cgfs.BlkioEntry
		if _, err := fmt.Sscanf(f[0], "%d:%d", &e.Major, &e.Minor); err != nil {
			return nil, fmt.Errorf("%s: bad line %q", file, sc.Text())
		}
		v := f[len(f)-1]
		if len(f) == 3 {
			e.Op = f[1]
		}
		if e.Value, err = strconv.ParseUint(v, 10, 64); err != nil {
			return nil, fmt.Errorf("%s: bad line %q", file, sc.Text())
		}
		out = append(out, e)
	}
	return out, nil
}
