package hooks

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtproject/rt/internal/field"
)

// Validate checks every hook of h: an absolute path, args and env that
// execve can take, a positive timeout.
func Validate(h *specs.Hooks) error {
	if h == nil {
		return nil
	}
	lists := []struct {
		name  string
		hooks []specs.Hook
	}{
		{"prestart", h.Prestart},
		{"createRuntime", h.CreateRuntime}, {"createContainer", h.CreateContainer},
		{"startContainer", h.StartContainer}, {"poststart", h.Poststart}, {"poststop", h.Poststop},
	}
	for _, l := range lists {
		for i, hook := range l.hooks {
			if err := validateHook(hook, field.Index("hooks."+l.name, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func validateHook(h specs.Hook, name string) error {
	if err := field.Absolute(name+".path", h.Path); err != nil {
		return err
	}
	for i, a := range h.Args {
		if err := field.NoNUL(field.Index(name+".args", i), a); err != nil {
			return err
		}
	}
	if err := field.Env(name+".env", h.Env); err != nil {
		return err
	}
	if h.Timeout != nil && *h.Timeout <= 0 {
		return fmt.Errorf("%s.timeout: %d is not greater than 0", name, *h.Timeout)
	}
	return nil
}
