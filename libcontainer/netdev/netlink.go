package netdev

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"net"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rtnl is a NETLINK_ROUTE socket: the few link and address requests the
// move needs, written out rather than pulling in a netlink library.
type rtnl struct {
	fd  int
	seq uint32
}

// openRtnl opens a route netlink socket in the calling thread's network
// namespace (the runtime's).
func openRtnl() (*rtnl, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind netlink socket: %w", err)
	}
	return &rtnl{fd: fd}, nil
}

// openRtnlIn opens a route netlink socket in the network namespace netns
// refers to. A socket stays in the namespace it was made in, so it is made
// on a thread that joins netns and is never given back to the Go runtime:
// the thread goes when the goroutine ends.
func openRtnlIn(netns *os.File) (*rtnl, error) {
	type result struct {
		s   *rtnl
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(int(netns.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{err: fmt.Errorf("join network namespace %s: %w", netns.Name(), err)}
			return
		}
		s, err := openRtnl()
		ch <- result{s, err}
	}()
	r := <-ch
	return r.s, r.err
}

func (s *rtnl) Close() error { return unix.Close(s.fd) }

// attr is one netlink route attribute.
type attr struct {
	typ  uint16
	data []byte
}

func nlAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }

// request sends one message (header fields typ and flags, then body and
// attrs) and collects the replies: the payloads of a dump, or none for a
// request that is only acknowledged. A kernel error comes back as the errno.
func (s *rtnl) request(typ, flags uint16, body []byte, attrs ...attr) ([]syscall.NetlinkMessage, error) {
	s.seq++
	msg := make([]byte, unix.SizeofNlMsghdr, 256)
	msg = append(msg, body...)
	for _, a := range attrs {
		for len(msg)%unix.RTA_ALIGNTO != 0 {
			msg = append(msg, 0)
		}
		hdr := make([]byte, unix.SizeofRtAttr)
		binary.NativeEndian.PutUint16(hdr[0:], uint16(unix.SizeofRtAttr+len(a.data)))
		binary.NativeEndian.PutUint16(hdr[2:], a.typ)
		msg = append(append(msg, hdr...), a.data...)
	}
	for len(msg)%unix.NLMSG_ALIGNTO != 0 {
		msg = append(msg, 0)
	}
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], flags|unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	binary.NativeEndian.PutUint32(msg[8:], s.seq)
	if err := unix.Sendto(s.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("netlink send: %w", err)
	}
	var out []syscall.NetlinkMessage
	for {
		// A fresh buffer each time: the messages kept point into it.
		buf := make([]byte, 1<<16)
		n, _, err := unix.Recvfrom(s.fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return nil, fmt.Errorf("netlink receive: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return nil, fmt.Errorf("netlink reply: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Seq != s.seq {
				continue
			}
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return out, nil
			case unix.NLMSG_ERROR:
				if len(m.Data) < 4 {
					return nil, errors.New("netlink reply: short error message")
				}
				if errno := -int32(binary.NativeEndian.Uint32(m.Data)); errno != 0 {
					return nil, unix.Errno(errno)
				}
				// The acknowledgement: for a dump it follows NLMSG_DONE.
				return out, nil
			default:
				out = append(out, m)
			}
		}
	}
}

// link is what the move needs to know of an interface.
type link struct {
	index int32
	name  string
	flags uint32
}

func ifinfo(index int32, flags, change uint32) []byte {
	m := unix.IfInfomsg{Family: unix.AF_UNSPEC, Index: index, Flags: flags, Change: change}
	return (*[unix.SizeofIfInfomsg]byte)(unsafe.Pointer(&m))[:]
}

func cString(s string) []byte { return append([]byte(s), 0) }

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

// linkBy looks an interface up by index, or by name when index is 0.
func (s *rtnl) linkBy(index int32, name string) (*link, error) {
	var attrs []attr
	if index == 0 {
		attrs = append(attrs, attr{unix.IFLA_IFNAME, cString(name)})
	}
	msgs, err := s.request(unix.RTM_GETLINK, 0, ifinfo(index, 0, 0), attrs...)
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWLINK || len(m.Data) < unix.SizeofIfInfomsg {
			continue
		}
		info := (*unix.IfInfomsg)(unsafe.Pointer(&m.Data[0]))
		l := &link{index: info.Index, flags: info.Flags}
		for typ, v := range routeAttrs(m.Data[unix.SizeofIfInfomsg:]) {
			if typ == unix.IFLA_IFNAME {
				l.name = string(trimNUL(v))
			}
		}
		return l, nil
	}
	return nil, unix.ENODEV
}

// routeAttrs iterates over the route attributes in b (type without the nested
// and byte-order bits, value), stopping at the first malformed one.
// syscall.ParseNetlinkRouteAttr refuses some messages the kernel sends
// (a link's padded last attribute).
func routeAttrs(b []byte) iter.Seq2[uint16, []byte] {
	return func(yield func(uint16, []byte) bool) {
		for len(b) >= unix.SizeofRtAttr {
			l := int(binary.NativeEndian.Uint16(b[0:]))
			typ := binary.NativeEndian.Uint16(b[2:]) &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)
			if l < unix.SizeofRtAttr || l > len(b) {
				return
			}
			if !yield(typ, b[unix.SizeofRtAttr:l]) {
				return
			}
			b = b[min(nlAlign(l), len(b)):]
		}
	}
}

func trimNUL(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// setUp sets or clears IFF_UP.
func (s *rtnl) setUp(index int32, up bool) error {
	var flags uint32
	if up {
		flags = unix.IFF_UP
	}
	_, err := s.request(unix.RTM_NEWLINK, 0, ifinfo(index, flags, unix.IFF_UP))
	return err
}

// moveTo moves interface index into the network namespace of netns and
// names it name there, in one request: the kernel checks the name (and
// expands a "%d" template) in the target namespace.
func (s *rtnl) moveTo(index int32, name string, netns *os.File) error {
	_, err := s.request(unix.RTM_NEWLINK, 0, ifinfo(index, 0, 0),
		attr{unix.IFLA_IFNAME, cString(name)},
		attr{unix.IFLA_NET_NS_FD, u32(uint32(netns.Fd()))})
	return err
}

// address is an interface address as RTM_NEWADDR takes it back.
type address struct {
	family    uint8
	prefixlen uint8
	local     []byte // IFA_LOCAL
	addr      []byte // IFA_ADDRESS
}

func (a address) String() string {
	ip := a.local
	if ip == nil {
		ip = a.addr
	}
	return fmt.Sprintf("%s/%d", net.IP(ip), a.prefixlen)
}

// permanentGlobalAddrs lists the addresses of interface index that the
// runtime-spec says move with it: permanent (IFA_F_PERMANENT) and of global
// scope. The kernel drops every address of an interface that changes
// namespace.
func (s *rtnl) permanentGlobalAddrs(index int32) ([]address, error) {
	body := make([]byte, unix.SizeofIfAddrmsg)
	body[0] = unix.AF_UNSPEC
	msgs, err := s.request(unix.RTM_GETADDR, unix.NLM_F_DUMP, body)
	if err != nil {
		return nil, err
	}
	var out []address
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWADDR || len(m.Data) < unix.SizeofIfAddrmsg {
			continue
		}
		ifa := (*unix.IfAddrmsg)(unsafe.Pointer(&m.Data[0]))
		if int32(ifa.Index) != index || ifa.Scope != unix.RT_SCOPE_UNIVERSE {
			continue
		}
		flags := uint32(ifa.Flags)
		a := address{family: ifa.Family, prefixlen: ifa.Prefixlen}
		for typ, v := range routeAttrs(m.Data[unix.SizeofIfAddrmsg:]) {
			switch typ {
			case unix.IFA_FLAGS: // the full 32 flag bits
				if len(v) >= 4 {
					flags = binary.NativeEndian.Uint32(v)
				}
			case unix.IFA_LOCAL:
				a.local = v
			case unix.IFA_ADDRESS:
				a.addr = v
			}
		}
		if flags&unix.IFA_F_PERMANENT != 0 {
			out = append(out, a)
		}
	}
	return out, nil
}

// addAddr gives interface index the address a.
func (s *rtnl) addAddr(index int32, a address) error {
	m := unix.IfAddrmsg{Family: a.family, Prefixlen: a.prefixlen, Scope: unix.RT_SCOPE_UNIVERSE, Index: uint32(index)}
	body := (*[unix.SizeofIfAddrmsg]byte)(unsafe.Pointer(&m))[:]
	var attrs []attr
	if a.local != nil {
		attrs = append(attrs, attr{unix.IFA_LOCAL, a.local})
	}
	if a.addr != nil {
		attrs = append(attrs, attr{unix.IFA_ADDRESS, a.addr})
	}
	_, err := s.request(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, body, attrs...)
	return err
}
