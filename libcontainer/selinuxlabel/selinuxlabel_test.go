package selinuxlabel

import (
	"errors"
	"testing"

	"github.com/opencontainers/selinux/go-selinux"
)

func TestWithoutSELinux(t *testing.T) {
	if selinux.GetEnabled() {
		t.Skip("SELinux is enabled on this host")
	}
	for name, set := range map[string]func(string) error{"SetExecLabel": SetExecLabel, "SetKeyLabel": SetKeyLabel} {
		if err := set(""); err != nil {
			t.Errorf("%s(\"\") = %v, want nil", name, err)
		}
		err := set("system_u:system_r:container_t:s0")
		if !errors.Is(err, ErrNotEnabled) || err.Error() != "process.selinuxLabel: SELinux is not enabled on this host" {
			t.Errorf("%s(label) = %v, want ErrNotEnabled", name, err)
		}
	}
}
