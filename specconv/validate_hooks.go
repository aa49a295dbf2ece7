package specconv

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func validateHooks(h *specs.Hooks) error {
	if h == nil {
		return nil
	}
	lists := []struct {
		name  string
		hooks []specs.Hook
	}{
		{"prestart", h.Prestart}, {"createRuntime", h.CreateRuntime}, {"createContainer", h.CreateContainer},
		{"startContainer", h.StartContainer}, {"poststart", h.Poststart}, {"poststop", h.Poststop},
	}
	for _, l := range lists {
		for i, hook := range l.hooks {
			if err := validateHook(hook, indexed("hooks."+l.name, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func validateHook(h specs.Hook, field string) error {
	if err := checkAbsolute(field+".path", h.Path); err != nil {
		return err
	}
	for i, a := range h.Args {
		if err := checkNoNUL(indexed(field+".args", i), a); err != nil {
			return err
		}
	}
	if err := validateEnv(h.Env, field+".env"); err != nil {
		return err
	}
	if h.Timeout != nil && *h.Timeout <= 0 {
		return fmt.Errorf("%s.timeout: %d is not greater than 0", field, *h.Timeout)
	}
	return nil
}
