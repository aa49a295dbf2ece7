package cgfs

import (
	"os"
	"strconv"
	"strings"
)

// HugePageSizes lists the host's huge page sizes in the notation cgroup
// file names use ("2MB", "1GB").
func HugePageSizes() []string {
	entries, err := os.ReadDir("/sys/kernel/mm/hugepages")
	if err != nil {
		return nil
	}
	var sizes []string
	for _, e := range entries {
		kb, ok := strings.CutPrefix(e.Name(), "hugepages-")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(kb, "kB"), 10, 64)
		if err != nil {
			continue
		}
		sizes = append(sizes, PageSizeName(n*1024))
	}
	return sizes
}

// PageSizeName formats a byte count the way the hugetlb controller names
// its files: the largest unit that divides it exactly.
func PageSizeName(bytes uint64) string {
	units := []string{"B", "KB", "MB", "GB", "TB", "PB"}
	i := 0
	for bytes >= 1024 && bytes%1024 == 0 && i < len(units)-1 {
		bytes /= 1024
		i++
	}
	return strconv.FormatUint(bytes, 10) + units[i]
}
