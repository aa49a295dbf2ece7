package libcontainer

import "fmt"

// ValidateID checks a container ID the way runc does: letters, digits, "_", "+", "-" and ".", but not
// "." or "..". The ID names rt's state directory, so anything that could climb out of it is refused.
//
// runc 1.1 also accepts "," through a character-class range in its pattern; later runc versions reject it, and so
// does rt.
func ValidateID(id string) error {
	if id == "" {
		return fmt.Errorf("container id: must not be empty")
	}
	if id == "." || id == ".." {
		return fmt.Errorf("container id %q: must not be \".\" or \"..\"", id)
	}
	for _, c := range []byte(id) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '+', c == '-', c == '.':
		default:
			return fmt.Errorf("container id %q: may contain only letters, digits, \"_\", \"+\", \"-\" and \".\"", id)
		}
	}
	return nil
}
