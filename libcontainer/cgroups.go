package libcontainer

// cgroupManager is what the lifecycle needs of the cgroups package.
type cgroupManager interface {
	Apply(pid int) error
	Freeze() error
	Thaw() error
	FreezerState() (string, error)
	Pids() ([]int, error)
	Destroy() error
	Paths() map[string]string
}

// cgroups returns the manager of the container's cgroup, nil when it has none.
func (c *Container) cgroups() cgroupManager {
	return nil
}

// newCgroupManager returns the manager for a container being created.
func (c *Container) newCgroupManager() (cgroupManager, error) {
	return nil, nil
}

func (c *Container) setCgroupResources(m cgroupManager) error {
	return nil
}
