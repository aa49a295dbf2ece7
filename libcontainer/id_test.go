package libcontainer

import "testing"

func TestValidateID(t *testing.T) {
	valid := []string{"a", "abc-123", "A_b+c.d", "..a", "a..b", ".a", "0", "x-", "3f2a9c1e5b7d"}
	for _, id := range valid {
		if err := ValidateID(id); err != nil {
			t.Errorf("%q: %v", id, err)
		}
	}
	invalid := map[string]string{
		"":    `container id: must not be empty`,
		".":   `container id ".": must not be "." or ".."`,
		"..":  `container id "..": must not be "." or ".."`,
		"a/b": `container id "a/b": may contain only letters, digits, "_", "+", "-" and "."`,
		"/a":  `container id "/a": may contain only letters, digits, "_", "+", "-" and "."`,
		"a b": `container id "a b": may contain only letters, digits, "_", "+", "-" and "."`,
		"a,b": `container id "a,b": may contain only letters, digits, "_", "+", "-" and "."`,
		"a:b": `container id "a:b": may contain only letters, digits, "_", "+", "-" and "."`,
		"é":   `container id "é": may contain only letters, digits, "_", "+", "-" and "."`,
		"a\n": `container id "a\n": may contain only letters, digits, "_", "+", "-" and "."`,
	}
	for id, want := range invalid {
		if err := ValidateID(id); err == nil || err.Error() != want {
			t.Errorf("%q: got %v, want %s", id, err, want)
		}
	}
}
