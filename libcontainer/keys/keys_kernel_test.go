//go:build kernel

// This test joins keyrings for real, in a child (childtest): it needs root
// and runs with the kernel tests of the integration suite.

package keys

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/childtest"
)

func init() { childtest.Register("session", sessionScenario) }

func TestMain(m *testing.M) { childtest.TestMain(m) }

// TestSetupSessionKeyring joins two container keyrings in a child and
// checks, through keyctl, that each became the session keyring with the
// name and search permission asked for.
func TestKernelSetupSessionKeyring(t *testing.T) {
	id := strconv.Itoa(os.Getpid())
	out := childtest.Run(t, "session", "KEYS_TEST_ID="+id)
	want := fmt.Sprintf("keyring;0;0;user-search=true;other-search=false;_ses.rt-test-%s-a is the session keyring: true\n", id) +
		fmt.Sprintf("keyring;0;0;user-search=false;other-search=true;_ses.rt-test-%s-b is the session keyring: true\n", id)
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func sessionScenario() error {
	base := "rt-test-" + os.Getenv("KEYS_TEST_ID")
	for _, c := range []struct {
		suffix string
		userNS bool
	}{{"-a", false}, {"-b", true}} {
		id, err := SetupSessionKeyring(base+c.suffix, c.userNS)
		if err != nil {
			return err
		}
		session, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_SESSION_KEYRING, false)
		if err != nil {
			return err
		}
		desc, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
		if err != nil {
			return err
		}
		f := strings.SplitN(desc, ";", 5)
		perm, err := strconv.ParseUint(f[3], 16, 32)
		if err != nil {
			return err
		}
		fmt.Printf("%s;%s;%s;user-search=%v;other-search=%v;%s is the session keyring: %v\n",
			f[0], f[1], f[2], uint32(perm)&PermUserSearch != 0, uint32(perm)&PermOtherSearch != 0, f[4], session == id)
	}
	return nil
}
