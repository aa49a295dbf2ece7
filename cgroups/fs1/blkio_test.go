package fs1

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

// TestStatsBlkioLayers: the counters come from the first I/O layer that
// counts. On this kernel's VMs bfq's files exist but are empty (no disk uses
// bfq), and only the throttle layer counts: events --stats showed "blkio": {}.
func TestStatsBlkioLayers(t *testing.T) {
	const throttled = "254:0 Read 4096\n254:0 Write 8192\n254:0 Total 12288\nTotal 12288\n"
	const bfq = "8:0 Read 1\n8:0 Write 2\n8:0 Total 3\nTotal 3\n"
	want := func(op string, v uint64, major uint64) cgfs.BlkioEntry {
		return cgfs.BlkioEntry{Major: major, Op: op, Value: v}
	}
	for _, tt := range []struct {
		name  string
		files map[string]string
		want  []cgfs.BlkioEntry
	}{
		{"bfq empty, throttle counts", map[string]string{
			"blkio.bfq.io_service_bytes_recursive":      "Total 0\n",
			"blkio.bfq.io_serviced_recursive":           "Total 0\n",
			"blkio.throttle.io_service_bytes_recursive": throttled,
			"blkio.throttle.io_serviced_recursive":      throttled,
		}, []cgfs.BlkioEntry{want("Read", 4096, 254), want("Write", 8192, 254), want("Total", 12288, 254)}},
		{"bfq counts", map[string]string{
			"blkio.bfq.io_service_bytes_recursive":      bfq,
			"blkio.bfq.io_serviced_recursive":           bfq,
			"blkio.throttle.io_service_bytes_recursive": throttled,
			"blkio.throttle.io_serviced_recursive":      throttled,
		}, []cgfs.BlkioEntry{want("Read", 1, 8), want("Write", 2, 8), want("Total", 3, 8)}},
		{"only the non-recursive throttle files", map[string]string{
			"blkio.throttle.io_service_bytes": throttled,
			"blkio.throttle.io_serviced":      throttled,
		}, []cgfs.BlkioEntry{want("Read", 4096, 254), want("Write", 8192, 254), want("Total", 12288, 254)}},
		{"nothing counts", map[string]string{"blkio.bfq.io_service_bytes_recursive": ""}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for f, content := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, f), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var s cgfs.Stats
			if err := statsBlkio(dir, &s); err != nil {
				t.Fatal(err)
			}
			for _, got := range [][]cgfs.BlkioEntry{s.Blkio.IoServiceBytesRecursive, s.Blkio.IoServicedRecursive} {
				if len(got) != len(tt.want) {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
				for i := range got {
					if got[i] != tt.want[i] {
						t.Errorf("entry %d: %+v, want %+v", i, got[i], tt.want[i])
					}
				}
			}
		})
	}
}
