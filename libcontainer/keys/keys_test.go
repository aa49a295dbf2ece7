package keys

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel/kerneltest"
)

func TestSessionKeyringName(t *testing.T) {
	if got := SessionKeyringName("web-1"); got != "_ses.web-1" {
		t.Errorf("SessionKeyringName = %q", got)
	}
}

// TestSetupSessionKeyring joins keyrings on the fake kernel;
// keys_kernel_test.go does it for real.
func TestSetupSessionKeyring(t *testing.T) {
	for _, tt := range []struct {
		userNS bool
		want   []string
	}{
		{false, []string{"keyctl join _ses.c1", "keyctl setperm 1000 0x3f090000"}},
		{true, []string{"keyctl join _ses.c1", "keyctl setperm 1000 0x3f010008"}},
	} {
		rec := kerneltest.New(t, "")
		if id, err := SetupSessionKeyring("c1", tt.userNS); err != nil || id != 1000 || !slices.Equal(rec.Calls, tt.want) {
			t.Errorf("userNS %v: %d, %v, calls %q, want %q", tt.userNS, id, err, rec.Calls, tt.want)
		}
	}
	rec := kerneltest.New(t, "")
	rec.Fail("keyctl", 1, unix.ENOSYS)
	if _, err := SetupSessionKeyring("c1", false); !errors.Is(err, ErrUnavailable) {
		t.Errorf("keyctl missing: %v, want ErrUnavailable", err)
	}
}

func TestModKeyringPermBadKey(t *testing.T) {
	err := ModKeyringPerm(-12345, ^uint32(0), PermUserSearch)
	if err == nil || !strings.HasPrefix(err.Error(), "describe key -12345: ") {
		t.Errorf("err = %v, want a describe error", err)
	}
}
