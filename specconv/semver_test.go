package specconv

import (
	"regexp"
	"testing"
)

// semverGrammar is SemVer 2.0.0's grammar as a regexp: the reference
// semverMajor is checked against.
var semverGrammar = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)` +
	`(-(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(\.(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*)?` +
	`(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)

func TestSemverMajor(t *testing.T) {
	tests := []struct {
		version string
		major   string // "" when not a version
	}{
		{"1.0.2", "1"},
		{"1.2.0", "1"},
		{"0.0.0", "0"},
		{"10.20.30", "10"},
		{"1.0.2-dev", "1"},
		{"1.1.0-rc.1", "1"},
		{"1.0.0-alpha.beta.1", "1"},
		{"1.0.0-0A.is.legal", "1"},
		{"1.0.0-x-y-z.--", "1"},
		{"1.0.0+build.1", "1"},
		{"1.0.0-rc.1+build.1-x", "1"},
		{"1.0.0+0.build.1-rc.10000aaa-kk-0.1", "1"},
		{"1.0.0-0", "1"},
		{"1.0.0-00a", "1"},
		{"2.0.0", "2"},
		{"99999999999999999999.0.0", "99999999999999999999"},
		{"", ""},
		{"1", ""},
		{"1.0", ""},
		{"1.0.0.0", ""},
		{"01.0.0", ""},
		{"1.02.0", ""},
		{"1.0.00", ""},
		{"v1.0.0", ""},
		{"1.0.0-", ""},
		{"1.0.0+", ""},
		{"1.0.0-01", ""},
		{"1.0.0-rc..1", ""},
		{"1.0.0-rc.1.", ""},
		{"1.0.0+build..1", ""},
		{"1.0.0-rc_1", ""},
		{"1.0.0+build@1", ""},
		{"1.0.0 ", ""},
		{" 1.0.0", ""},
		{"1.-1.0", ""},
		{"a.b.c", ""},
		{"1.0.0-+", ""},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			got, ok := semverMajor(tt.version)
			if want := tt.major != ""; ok != want || got != tt.major {
				t.Errorf("semverMajor(%q) = %q, %v; want %q, %v", tt.version, got, ok, tt.major, want)
			}
			if m := semverGrammar.FindStringSubmatch(tt.version); (m != nil) != ok || m != nil && m[1] != got {
				t.Errorf("semverMajor(%q) = %q, %v; the SemVer grammar says %q", tt.version, got, ok, m)
			}
		})
	}
}

// FuzzSemverMajor checks semverMajor against the SemVer grammar on any input.
func FuzzSemverMajor(f *testing.F) {
	for _, s := range []string{"1.0.2", "1.0.0-rc.1+b", "01.0.0", "1.0.0-01", "1.0.0+a..b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, ok := semverMajor(v)
		m := semverGrammar.FindStringSubmatch(v)
		if (m != nil) != ok || m != nil && m[1] != got {
			t.Errorf("semverMajor(%q) = %q, %v; the SemVer grammar says %q", v, got, ok, m)
		}
	})
}
