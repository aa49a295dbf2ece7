package apparmor

import (
	"errors"
	"testing"
)

func TestApplyProfileWithoutAppArmor(t *testing.T) {
	if Enabled() {
		t.Skip("AppArmor is enabled on this host")
	}
	err := ApplyProfile("rt-test-profile")
	if !errors.Is(err, ErrNotEnabled) {
		t.Fatalf("ApplyProfile = %v, want ErrNotEnabled", err)
	}
	if want := "process.apparmorProfile: AppArmor is not enabled on this host"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestApplyEmptyProfile(t *testing.T) {
	// No profile asked for: nothing to do, AppArmor or not.
	if err := ApplyProfile(""); err != nil {
		t.Errorf("ApplyProfile(\"\") = %v", err)
	}
}
