package libcontainer

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/criu"
	"github.com/rtproject/rt/libcontainer/criu/criurpc"
	"github.com/rtproject/rt/libcontainer/namespaces"
)

// Checkpoint saves the running container's process tree with CRIU into
// o.ImagePath. The tree is the user's: the init that set the container up
// exec'd into the container's process, so no rt code is in the images.
// Unless o.LeaveRunning or o.PreDump, CRIU ends the processes and the
// container is then removed, as with runc.
func (c *Container) Checkpoint(o *CriuOpts) error {
	switch st := c.Status(); st {
	case Running, Paused:
	default:
		return fmt.Errorf("container cannot be checkpointed in %s state", st)
	}
	spec := c.state.Config
	if c.state.HostMountNS {
		return errors.New("checkpoint: the container shares the host's mount namespace (linux.namespaces has no mount namespace), which CRIU cannot dump")
	}
	if err := o.validate(); err != nil {
		return err
	}
	info, err := o.probeCriu()
	if err != nil {
		return err
	}
	logrus.Debugf("checkpoint %s with CRIU %s (%s)", c.state.ID, info.Version, info.Path)

	images, work, err := o.openDirs(true)
	if err != nil {
		return err
	}
	defer images.Close()
	if work != nil {
		defer work.Close()
	}
	const logFile = "dump.log"
	opts := o.baseRPC(spec)
	opts.ImagesDirFd = int32(images.Fd())
	if work != nil {
		opts.WorkDirFd = new(int32(work.Fd()))
	}
	opts.LogFile = logFile
	opts.Pid = int32(c.state.InitPid)
	opts.Root = c.state.Rootfs
	opts.LeaveRunning = new(o.LeaveRunning)
	opts.LinkRemap = new(o.LinkRemap)
	opts.FreezeCgroup = freezerPath(c.state.CgroupPaths)
	if opts.Ps, err = o.pageServer(); err != nil {
		return err
	}
	if o.ParentPath != "" {
		opts.ParentImg = o.ParentPath
		opts.TrackMem = new(true)
	}
	if o.LazyPages && o.StatusFd >= 0 {
		// CRIU answers "status-ready" when its page server listens.
		defer unix.Close(o.StatusFd)
	}
	// A namespace the container joined by path is not the container's to
	// save: CRIU records it as external, and a restore joins it again.
	for _, t := range []specs.LinuxNamespaceType{specs.NetworkNamespace, specs.PIDNamespace} {
		p := namespaces.Path(spec, t)
		if p == "" {
			continue
		}
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			return fmt.Errorf("linux.namespaces: %s namespace %s: %w", t, p, err)
		}
		opts.External = append(opts.External, fmt.Sprintf("%s[%d]:%s", namespaces.ProcName(t), st.Ino, criuNsKey(t)))
	}

	reqType := criurpc.ReqDump
	if o.PreDump {
		reqType = criurpc.ReqPreDump
	} else {
		// A pre-dump saves memory only; the rest is described for the dump.
		if opts.ExtMnt, err = externalMounts(spec, c.state.Rootfs, c.state.Bundle, c.state.CgroupPaths, false); err != nil {
			return err
		}
		masked, err := maskedFiles(spec, c.state.InitPid)
		if err != nil {
			return err
		}
		for _, p := range masked {
			opts.ExtMnt = append(opts.ExtMnt, extMount(p, "/dev/null"))
		}
		if err := writeDescriptors(o.imagePath(), stdioDescriptors(c.state.InitPid)); err != nil {
			return fmt.Errorf("--image-path: %w", err)
		}
	}

	s, err := criu.Start(criu.Options{Path: info.Path})
	if err != nil {
		return err
	}
	_, err = s.Request(&criurpc.Req{Type: reqType, Opts: opts}, func(n criurpc.Notify, _ []int) error {
		if n.Script == "status-ready" && o.LazyPages && o.StatusFd >= 0 {
			if _, err := unix.Write(o.StatusFd, []byte{0}); err != nil {
				logrus.Warnf("--status-fd %d: %v", o.StatusFd, err)
			}
		}
		return nil
	})
	// After a pre-dump CRIU waits for a next request: ending the session
	// ends it, with a status that says nothing.
	if cerr := s.Close(); err == nil && cerr != nil && !o.PreDump {
		err = cerr
	}
	if err != nil {
		return o.criuFailed(err, logFile)
	}
	if o.LeaveRunning || o.PreDump {
		return nil
	}
	// CRIU ended the processes once they were saved: the container goes.
	return c.Delete(true)
}
