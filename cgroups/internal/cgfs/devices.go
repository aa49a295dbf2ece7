package cgfs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// ValidateDeviceRule checks one linux.resources.devices entry, the rule both
// drivers apply: type a, b or c ("" is a), access letters of "rwm" ("" is
// all). The error names the sub-field ("type: …").
func ValidateDeviceRule(d specs.LinuxDeviceCgroup) error {
	switch d.Type {
	case "", "a", "b", "c":
	default:
		return fmt.Errorf("type: %q is not one of a, b, c", d.Type)
	}
	if strings.Trim(d.Access, "rwm") != "" {
		return fmt.Errorf("access: %q has letters other than r, w, m", d.Access)
	}
	return nil
}

// DeviceRule formats a spec device rule as the v1 devices controller
// reads it: "type major:minor access", with "*" for a missing number.
func DeviceRule(d specs.LinuxDeviceCgroup) (string, error) {
	if err := ValidateDeviceRule(d); err != nil {
		return "", err
	}
	t := d.Type
	if t == "" {
		t = "a"
	}
	access := d.Access
	if access == "" {
		access = "rwm"
	}
	if t == "a" {
		// The kernel ignores numbers for "a"; it stands for every device.
		return "a *:* " + access, nil
	}
	return fmt.Sprintf("%s %s:%s %s", t, devNum(d.Major), devNum(d.Minor), access), nil
}

func devNum(n *int64) string {
	if n == nil || *n < 0 {
		return "*"
	}
	return strconv.FormatInt(*n, 10)
}

// ValidateUnifiedKey checks a key of linux.resources.unified: a file name
// in the cgroup ("memory.high"), never a path.
func ValidateUnifiedKey(k string) error {
	if strings.ContainsAny(k, "/\x00") || k == "." || k == ".." || k == "" {
		return errors.New("not a cgroup file name")
	}
	if _, _, ok := strings.Cut(k, "."); !ok {
		return errors.New("not a cgroup file name")
	}
	return nil
}
