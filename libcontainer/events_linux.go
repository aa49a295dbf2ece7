package libcontainer

import (
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/rtproject/rt/cgroups"
)

// Event is one line of `rt events`, field for field runc's: type "stats"
// carries *cgroups.Stats in Data, type "oom" has no data.
type Event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data any    `json:"data,omitempty"`
}

// Stats reads the counters of the container's cgroup.
func (c *Container) Stats() (*cgroups.Stats, error) {
	if c.Status() == Stopped {
		return nil, fmt.Errorf("container with id %s is not running", c.state.ID)
	}
	m := c.cgroups()
	if m == nil {
		return nil, fmt.Errorf("container %s has no cgroup to read stats from", c.state.ID)
	}
	s, err := m.Stats()
	if err != nil {
		return nil, fmt.Errorf("container %s: stats: %w", c.state.ID, err)
	}
	return s, nil
}

// livenessPoll is how often Watch checks that the container still runs;
// shorter than any sensible stats interval so that the stream ends soon
// after the container does.
const livenessPoll = 100 * time.Millisecond

// Watch emits a stats event every interval and an oom event for each OOM
// kill in the container's cgroup, until the container stops, its cgroup
// goes, or emit fails. It releases the container's lock first: a stream
// that may last for days must not block delete or kill.
func (c *Container) Watch(interval time.Duration, emit func(Event) error) error {
	if interval <= 0 {
		return fmt.Errorf("--interval: %s is not positive", interval)
	}
	if c.Status() == Stopped {
		return fmt.Errorf("container with id %s is not running", c.state.ID)
	}
	m := c.cgroups()
	if m == nil {
		return fmt.Errorf("container %s has no cgroup to watch", c.state.ID)
	}
	oom, err := m.OOMNotify()
	if err != nil {
		logrus.Warnf("container %s: no OOM events: %v", c.state.ID, err)
		oom = nil
	}
	id := c.state.ID
	c.Close()

	stats := time.NewTicker(interval)
	defer stats.Stop()
	alive := time.NewTicker(livenessPoll)
	defer alive.Stop()
	for {
		select {
		case _, ok := <-oom:
			if !ok {
				return nil // the cgroup was removed
			}
			if err := emit(Event{Type: "oom", ID: id}); err != nil {
				return err
			}
		case <-stats.C:
			s, err := m.Stats()
			if err != nil {
				if !c.initAlive() {
					return c.drainOOM(oom, emit)
				}
				logrus.Errorf("container %s: stats: %v", id, err)
				continue
			}
			if err := emit(Event{Type: "stats", ID: id, Data: s}); err != nil {
				return err
			}
		case <-alive.C:
			if !c.initAlive() {
				return c.drainOOM(oom, emit)
			}
		}
	}
}

// drainOOM reports an OOM kill that ended the container: the kernel
// signals the eventfd before the victim is gone, but the reader goroutine
// may not have passed it on yet.
func (c *Container) drainOOM(oom <-chan struct{}, emit func(Event) error) error {
	if oom == nil {
		return nil
	}
	select {
	case _, ok := <-oom:
		if ok {
			return emit(Event{Type: "oom", ID: c.state.ID})
		}
	case <-time.After(2 * livenessPoll):
	}
	return nil
}
