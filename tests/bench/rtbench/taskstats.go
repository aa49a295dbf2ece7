package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Peak RSS comes from the kernel's taskstats exit records (netlink), not
// from wait4's ru_maxrss: exec folds the high-water mark of the image it
// replaces into ru_maxrss, and a child forked by a big process (this Go
// benchmark, or a runtime forking its init) starts from its parent's RSS, so
// ru_maxrss overstates every process smaller than its parent. The taskstats
// record carries the process's own mm high-water mark at exit.

// exitRecord is what the kernel reported when a task exited.
type exitRecord struct {
	pid, ppid, tgid int
	comm            string
	exitCode        uint32 // wait status
	hiwaterRSS      int64  // bytes
	at              time.Time
}

type taskstatsListener struct {
	fd     int
	mu     sync.Mutex
	cond   *sync.Cond
	byPid  map[int]exitRecord
	lost   bool
	closed bool
}

// listenTaskstats registers for the exit records of tasks on every CPU.
func listenTaskstats() (*taskstatsListener, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
	if err != nil {
		return nil, err
	}
	// Many threads exit per container: a big buffer keeps records from being dropped.
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 32<<20)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	family, err := genlFamily(fd, unix.TASKSTATS_GENL_NAME)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("taskstats family: %w", err)
	}
	mask := fmt.Sprintf("0-%d", runtime.NumCPU()-1)
	req := genlMessage(family, unix.TASKSTATS_CMD_GET, 1,
		nlAttr(unix.TASKSTATS_CMD_ATTR_REGISTER_CPUMASK, append([]byte(mask), 0)))
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("register taskstats listener: %w", err)
	}
	l := &taskstatsListener{fd: fd, byPid: map[int]exitRecord{}}
	l.cond = sync.NewCond(&l.mu)
	go l.loop()
	return l, nil
}

func (l *taskstatsListener) loop() {
	buf := make([]byte, 1<<20)
	for {
		n, _, err := unix.Recvfrom(l.fd, buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err == unix.ENOBUFS {
			l.mu.Lock()
			l.lost = true
			l.mu.Unlock()
			continue
		}
		if err != nil {
			l.mu.Lock()
			l.closed = true
			l.cond.Broadcast()
			l.mu.Unlock()
			return
		}
		now := time.Now()
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			continue
		}
		for _, m := range msgs {
			if m.Header.Type == unix.NLMSG_ERROR || len(m.Data) < unix.GENL_HDRLEN {
				continue
			}
			for _, a := range parseAttrs(m.Data[unix.GENL_HDRLEN:]) {
				if a.typ != unix.TASKSTATS_TYPE_AGGR_PID {
					continue
				}
				for _, in := range parseAttrs(a.data) {
					if in.typ != unix.TASKSTATS_TYPE_STATS {
						continue
					}
					var ts unix.Taskstats
					copy(unsafe.Slice((*byte)(unsafe.Pointer(&ts)), unsafe.Sizeof(ts)), in.data)
					r := exitRecord{
						pid: int(ts.Ac_pid), ppid: int(ts.Ac_ppid), tgid: int(ts.Ac_tgid),
						comm: commString(ts.Ac_comm[:]), exitCode: ts.Ac_exitcode,
						hiwaterRSS: int64(ts.Hiwater_rss) * 1024, at: now,
					}
					l.mu.Lock()
					l.byPid[r.pid] = r
					l.cond.Broadcast()
					l.mu.Unlock()
				}
			}
		}
	}
}

// record returns the exit record of pid (a process's main thread), waiting
// briefly: the kernel sends it before the exit is reported to the parent,
// but this listener may not have read it yet.
func (l *taskstatsListener) record(pid int) (exitRecord, bool) {
	deadline := time.Now().Add(500 * time.Millisecond)
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if r, ok := l.byPid[pid]; ok {
			return r, true
		}
		if l.closed || time.Now().After(deadline) {
			return exitRecord{}, false
		}
		// The wait is woken by new records; a timer bounds it.
		t := time.AfterFunc(20*time.Millisecond, func() {
			l.mu.Lock()
			l.cond.Broadcast()
			l.mu.Unlock()
		})
		l.cond.Wait()
		t.Stop()
	}
}

// failedDescendantPeak is the peak RSS of the process descended from pid
// that exited with a failure after since: the runtime's process whose exec
// of the container process failed (its helpers, and a probe child of Go's
// os package sharing its parent's memory, exit 0).
func (l *taskstatsListener) failedDescendantPeak(pid int, since time.Time) (int64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	parent := map[int]int{}
	for _, r := range l.byPid {
		if r.at.After(since) && (r.tgid == 0 || r.tgid == r.pid) {
			parent[r.pid] = r.ppid
		}
	}
	var peak int64
	found := false
	for p := range parent {
		for a, hops := parent[p], 0; hops < 8; a, hops = parent[a], hops+1 {
			if a == pid && l.byPid[p].exitCode != 0 {
				if os.Getenv("RTBENCH_DEBUG") != "" {
					r := l.byPid[p]
					fmt.Fprintf(os.Stderr, "rtbench: failed descendant of %d: pid %d ppid %d comm %q status %#x peak %d KiB\n", pid, p, r.ppid, r.comm, r.exitCode, r.hiwaterRSS>>10)
				}
				peak = max(peak, l.byPid[p].hiwaterRSS)
				found = true
				break
			}
			if _, ok := parent[a]; !ok {
				break
			}
		}
	}
	return peak, found
}

// forget drops records older than a minute (their pids may be reused).
func (l *taskstatsListener) forget() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for pid, r := range l.byPid {
		if time.Since(r.at) > time.Minute {
			delete(l.byPid, pid)
		}
	}
}

func (l *taskstatsListener) droppedRecords() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

func commString(c []int8) string {
	b := make([]byte, 0, len(c))
	for _, x := range c {
		if x == 0 {
			break
		}
		b = append(b, byte(x))
	}
	return string(b)
}

// ---------------------------------------------------------------- generic netlink

type attr struct {
	typ  uint16
	data []byte
}

func nlAttr(typ uint16, data []byte) []byte {
	l := unix.SizeofNlAttr + len(data)
	b := make([]byte, (l+3)&^3)
	binary.NativeEndian.PutUint16(b[0:], uint16(l))
	binary.NativeEndian.PutUint16(b[2:], typ)
	copy(b[unix.SizeofNlAttr:], data)
	return b
}

func parseAttrs(b []byte) []attr {
	var out []attr
	for len(b) >= unix.SizeofNlAttr {
		l := int(binary.NativeEndian.Uint16(b[0:]))
		typ := binary.NativeEndian.Uint16(b[2:]) &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)
		if l < unix.SizeofNlAttr || l > len(b) {
			break
		}
		out = append(out, attr{typ: typ, data: b[unix.SizeofNlAttr:l]})
		b = b[min((l+3)&^3, len(b)):]
	}
	return out
}

func genlMessage(family uint16, cmd uint8, version uint8, attrs ...[]byte) []byte {
	payload := []byte{cmd, version, 0, 0}
	for _, a := range attrs {
		payload = append(payload, a...)
	}
	b := make([]byte, unix.SizeofNlMsghdr+len(payload))
	binary.NativeEndian.PutUint32(b[0:], uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:], family)
	binary.NativeEndian.PutUint16(b[6:], unix.NLM_F_REQUEST)
	binary.NativeEndian.PutUint32(b[8:], 1)
	binary.NativeEndian.PutUint32(b[12:], uint32(os.Getpid()))
	copy(b[unix.SizeofNlMsghdr:], payload)
	return b
}

// genlFamily resolves a generic netlink family name to its id.
func genlFamily(fd int, name string) (uint16, error) {
	req := genlMessage(unix.GENL_ID_CTRL, unix.CTRL_CMD_GETFAMILY, 1,
		nlAttr(unix.CTRL_ATTR_FAMILY_NAME, append([]byte(name), 0)))
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, err
	}
	buf := make([]byte, 16384)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return 0, err
	}
	msgs, err := syscall.ParseNetlinkMessage(buf[:n])
	if err != nil {
		return 0, err
	}
	for _, m := range msgs {
		if m.Header.Type == unix.NLMSG_ERROR {
			if len(m.Data) >= 4 {
				if e := int32(binary.NativeEndian.Uint32(m.Data)); e != 0 {
					return 0, unix.Errno(-e)
				}
			}
			continue
		}
		if len(m.Data) < unix.GENL_HDRLEN {
			continue
		}
		for _, a := range parseAttrs(m.Data[unix.GENL_HDRLEN:]) {
			if a.typ == unix.CTRL_ATTR_FAMILY_ID && len(a.data) >= 2 {
				return binary.NativeEndian.Uint16(a.data), nil
			}
		}
	}
	return 0, errors.New("no family id in reply")
}
