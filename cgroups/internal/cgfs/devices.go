package cgfs

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// DeviceRule formats a spec device rule as the v1 devices controller
// reads it: "type major:minor access", with "*" for a missing number.
func DeviceRule(d specs.LinuxDeviceCgroup) (string, error) {
	t := d.Type
	if t == "" {
		t = "a"
	}
	if t != "a" && t != "b" && t != "c" {
		return "", fmt.Errorf("type: %q is not one of a, b, c", d.Type)
	}
	access := d.Access
	if access == "" {
		access = "rwm"
	}
	if strings.Trim(access, "rwm") != "" {
		return "", fmt.Errorf("access: %q has letters other than r, w, m", d.Access)
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
