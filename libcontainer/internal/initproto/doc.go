// Package initproto is the protocol between rt and the `rt init` process it
// starts: how the init finds its socket, the Config sent over it, and the
// messages that follow. rt's side of the conversation is one function
// (libcontainer's converse), the init's side is libcontainer/initproc.
//
// The two talk over a unix stream socketpair. A message is a little-endian
// uint32 length, then that many bytes of JSON (Message); file descriptors
// ride as SCM_RIGHTS on the length bytes. The init finds its end of the
// socket in $_RT_INITSOCK and, when Go's exec started it, the binary it was
// executed from in $_RT_INITEXE, which it closes first thing.
//
// A create (Config.Mode "standard"), in this order:
//
//	rt → init   idmaps-done    only when $_RT_INITIDMAPS is set: rt without root
//	                           had newuidmap/newgidmap write the maps of the
//	                           init's new user namespace after it started. The
//	                           init executes itself again (from $_RT_INITEXE,
//	                           keeping the socket), to gain the capabilities of
//	                           root in that namespace, and the conversation
//	                           goes on with the new program
//	rt → init   config         the Config; the init is already in its cgroups,
//	                           or all but memory, which it joins before run-hooks
//	init → rt   mount-request  while mounting, any number of times, only when
//	                           Config.HostSources is set: the init needs rt to
//	                           clone the source of the spec's mounts[Message.Mount]
//	                           (every id-mapped mount, and in a user namespace a
//	                           bind source the container's ids cannot reach)
//	rt → init   mount-source   carries that source as a detached mount tree,
//	                           cloned in the init's mount namespace and id-mapped
//	                           when the mount asks; the init attaches it
//	init → rt   run-hooks      the mounts and /dev exist, pivot_root is next. rt
//	                           writes linux.resources to the cgroup (only now: a
//	                           device the bundle denies must still get its node),
//	                           then runs the prestart and createRuntime hooks
//	rt → init   hooks-done     the init runs createContainer hooks, pivots, and
//	                           applies the process attributes
//	init → rt   seccomp-fd     only when a rule is SCMP_ACT_NOTIFY: carries the
//	                           notify fd, which rt hands to the agent at
//	                           linux.seccomp.listenerPath (a host path)
//	rt → init   seccomp-ack    the init makes no notified syscall before it
//	init → rt   ready          setup is done
//	rt → init   recorded       state.json records the init: from now on it may
//	                           outlive rt. The init closes the socket and
//	                           blocks opening exec.fifo for writing
//
// Until recorded, the init must not outlive rt: it has a parent-death
// signal (SIGKILL) until it applies the process's attributes (a seccomp
// filter may forbid prctl after), and from then on it exits when the socket
// closes (EOF, EPIPE) before recorded arrives.
//
// `rt start` then opens exec.fifo for reading: the init runs the
// startContainer hooks and execs. The fifo's write end is close-on-exec, so
// EOF there means the process started; a failure of the hooks is written to
// the fifo as FifoErrorPrefix followed by the error, and fails start. A
// failed execve is written as FifoExecFailedPrefix and the error: as with
// runc, the container has then started and its process exits 255, having
// printed the error on its own stderr.
//
// An exec (Config.Mode "exec"): config, then seccomp-fd and seccomp-ack as
// above when the filter notifies, then exec: the init is about to execve the
// process. Its end of the socket is close-on-exec, so EOF after exec means the
// process started, and EOF before it means the init died. There is no
// run-hooks, no ready and no recorded; the parent-death signal goes before
// the process's attributes are applied, as in a create.
//
// On exec's fast path (nsenter.SpawnConfig.ExecProcess) the peer is the
// fresh image of rt that nsenter.Spawn executes, and rt sends the config as
// soon as the socket exists, while Spawn waits: the fresh image reads it,
// prepares the process, logs and forks it; the forked process sends exec
// (bytes Encode made before the fork) and execs. A failure of the fresh
// image comes as error, one of the forked process on Spawn's error pipe.
// There is no seccomp-fd: a filter with a listener takes the exec init.
//
// rt's end of the socket is non-blocking: every wait on the init is bounded
// by a deadline that rt moves into the past when the init exits or can make
// no progress.
//
// Throughout, the init may send log (a logrus JSON entry for rt's own log:
// the init's stderr belongs to the container; with Config.Debug, the steps
// of its start-up trace), and instead of its next
// message it may send error (setup failed; the init then exits 1). rt never
// sends an error: it kills the init.
package initproto
