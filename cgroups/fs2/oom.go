package fs2

import (
	"errors"
	"fmt"
	"path/filepath"
	"unsafe"

	"github.com/rtproject/rt/cgroups/internal/cgfs"
	"golang.org/x/sys/unix"
)

// OOMNotify signals each time memory.events' oom_kill count grows. It
// watches the file with inotify (the kernel raises IN_MODIFY on every
// change) and closes the channel when the cgroup is removed.
func (m *Manager) OOMNotify() (<-chan struct{}, error) {
	file := filepath.Join(m.c.Dir, "memory.events")
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("OOM notification: inotify: %w", err)
	}
	if _, err := unix.InotifyAddWatch(fd, file, unix.IN_MODIFY); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("OOM notification: watch %s: %w", file, err)
	}
	last := oomKills(m.c.Dir)
	ch := make(chan struct{}, 1)
	go func() {
		defer close(ch)
		defer unix.Close(fd)
		buf := make([]byte, 4096)
		for {
			n, err := unix.Read(fd, buf)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil || n < unix.SizeofInotifyEvent {
				return
			}
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
				if ev.Mask&(unix.IN_IGNORED|unix.IN_DELETE_SELF) != 0 {
					return
				}
				off += unix.SizeofInotifyEvent + int(ev.Len)
			}
			if cur := oomKills(m.c.Dir); cur > last {
				last = cur
				select {
				case ch <- struct{}{}:
				default:
				}
			}
		}
	}()
	return ch, nil
}

func oomKills(dir string) uint64 {
	ev, err := cgfs.ReadKeyValues(dir, "memory.events")
	if err != nil {
		return 0
	}
	return ev["oom_kill"]
}
