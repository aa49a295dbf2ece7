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
// all). Other letters are ignored, as runc ignores them ("rwa" is "rw"),
// but an access naming none of r, w, m is refused: it would grant or deny
// nothing, which is not what was meant. The error names the sub-field
// ("type: …").
func ValidateDeviceRule(d specs.LinuxDeviceCgroup) error {
	switch d.Type {
	case "", "a", "b", "c":
	default:
		return fmt.Errorf("type: %q is not one of a, b, c", d.Type)
	}
	if d.Access != "" && Access(d.Access) == "" {
		return fmt.Errorf("access: %q has none of the letters r, w, m", d.Access)
	}
	return nil
}

// Access returns the letters of a rule's access the kernel knows, in the
// order it writes them: "" (all) is "rwm", and others ("a") are dropped.
func Access(access string) string {
	if access == "" {
		return "rwm"
	}
	var out []byte
	for _, c := range []byte("rwm") {
		if strings.IndexByte(access, c) >= 0 {
			out = append(out, c)
		}
	}
	return string(out)
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
	access := Access(d.Access)
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
