package fs1

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// OOMNotify signals on the returned channel each time the kernel reports
// an OOM in the memory cgroup, through memory.oom_control's eventfd. The
// channel is closed when the cgroup is removed.
func (m *Manager) OOMNotify() (<-chan struct{}, error) {
	dir, ok := m.paths["memory"]
	if !ok {
		return nil, errors.New("OOM notification: the cgroup v1 memory controller is not mounted")
	}
	control, err := os.Open(filepath.Join(dir, "memory.oom_control"))
	if err != nil {
		return nil, fmt.Errorf("OOM notification: %w", err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		control.Close()
		return nil, fmt.Errorf("OOM notification: eventfd: %w", err)
	}
	event := os.NewFile(uintptr(efd), "oom-eventfd")
	reg := fmt.Sprintf("%d %d", efd, control.Fd())
	if err := os.WriteFile(filepath.Join(dir, "cgroup.event_control"), []byte(reg), 0); err != nil {
		event.Close()
		control.Close()
		return nil, fmt.Errorf("OOM notification: register: %w", err)
	}
	ch := make(chan struct{}, 1)
	go func() {
		defer close(ch)
		defer event.Close()
		defer control.Close()
		buf := make([]byte, 8)
		for {
			if _, err := event.Read(buf); err != nil || binary.NativeEndian.Uint64(buf) == 0 {
				return
			}
			// The eventfd also fires when the cgroup goes away.
			if _, err := os.Stat(filepath.Join(dir, "memory.oom_control")); err != nil {
				return
			}
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	return ch, nil
}
