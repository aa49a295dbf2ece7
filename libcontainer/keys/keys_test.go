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

func TestMain(m *testing.M) {
	childtest.Main(map[string]func() error{
		"session": sessionScenario,
	})
	os.Exit(m.Run())
}

func TestSessionKeyringName(t *testing.T) {
	if got := SessionKeyringName("web-1"); got != "_ses.web-1" {
		t.Errorf("SessionKeyringName = %q", got)
	}
}

// TestSetupSessionKeyring joins two container keyrings in a child and
// checks, through keyctl, that each became the session keyring with the
// name and search permission asked for.
func TestSetupSessionKeyring(t *testing.T) {
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

func TestModKeyringPermBadKey(t *testing.T) {
	err := ModKeyringPerm(-12345, ^uint32(0), PermUserSearch)
	if err == nil || !strings.HasPrefix(err.Error(), "describe key -12345: ") {
		t.Errorf("err = %v, want a describe error", err)
	}
}
