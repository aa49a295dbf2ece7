package libcontainer

import "fmt"

// Pause freezes every process of a created or running container.
func (c *Container) Pause() error {
	switch c.Status() {
	case Running, Created:
	default:
		return ErrNotRunning
	}
	m := c.cgroups()
	if m == nil {
		return fmt.Errorf("pause container %s: it has no cgroup to freeze", c.state.ID)
	}
	if err := m.Freeze(); err != nil {
		return fmt.Errorf("pause container %s: %w", c.state.ID, err)
	}
	return nil
}

// Resume thaws a paused container.
func (c *Container) Resume() error {
	if c.Status() != Paused {
		return ErrNotPaused
	}
	if err := c.cgroups().Thaw(); err != nil {
		return fmt.Errorf("resume container %s: %w", c.state.ID, err)
	}
	return nil
}

// Processes lists the pids in the container's cgroup (host pid namespace).
// A container without a cgroup has at most its init.
func (c *Container) Processes() ([]int, error) {
	m := c.cgroups()
	if m == nil {
		if c.initAlive() {
			return []int{c.state.InitPid}, nil
		}
		return []int{}, nil
	}
	pids, err := m.Pids()
	if err != nil {
		return nil, fmt.Errorf("container %s: list processes: %w", c.state.ID, err)
	}
	if pids == nil {
		pids = []int{}
	}
	return pids, nil
}
