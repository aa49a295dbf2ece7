package libcontainer

import (
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/initproto"
)

// fakeInit plays the init's side of the protocol on the other end of a
// socketpair: it reads the config, then sends script in order, reading the
// answer rt owes after each message that asks for one.
func fakeInit(t *testing.T, script []initproto.Type, closeAtEnd bool) (*initProcess, <-chan []initproto.Type) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	rt := initproto.NewChannel(os.NewFile(uintptr(fds[0]), "rt"))
	in := initproto.NewChannel(os.NewFile(uintptr(fds[1]), "init"))
	t.Cleanup(func() { rt.Close(); in.Close() })
	answers := make(chan []initproto.Type, 1)
	go func() {
		var got []initproto.Type
		defer func() { answers <- got }()
		m, _, err := in.Recv()
		if err != nil {
			return
		}
		got = append(got, m.Type)
		for _, typ := range script {
			msg := initproto.Message{Type: typ}
			switch typ {
			case initproto.MsgError:
				msg.Error = "process.cwd: no such directory"
			case initproto.MsgLog:
				msg.Log = `{"level":"debug","msg":"from the fake init"}`
			}
			if err := in.Send(msg); err != nil {
				return
			}
			if typ == initproto.MsgRunHooks {
				m, _, err := in.Recv()
				if err != nil {
					return
				}
				got = append(got, m.Type)
			}
		}
		if closeAtEnd {
			in.Close()
		}
	}()
	return &initProcess{ch: rt}, answers
}

func TestConverse(t *testing.T) {
	const (
		cfgMsg    = initproto.MsgConfig
		runHooks  = initproto.MsgRunHooks
		hooksDone = initproto.MsgHooksDone
		ready     = initproto.MsgReady
		log       = initproto.MsgLog
		fail      = initproto.MsgError
		execMsg   = initproto.MsgExec
	)
	for _, tt := range []struct {
		name        string
		mode        initproto.Mode
		script      []initproto.Type
		close       bool
		wantHooks   int
		wantAnswers []initproto.Type
		wantErr     string
	}{
		{"create", initproto.ModeStandard, []initproto.Type{log, runHooks, log, ready}, false, 1,
			[]initproto.Type{cfgMsg, hooksDone}, ""},
		{"create fails in setup", initproto.ModeStandard, []initproto.Type{runHooks, fail}, false, 1,
			[]initproto.Type{cfgMsg, hooksDone}, "process.cwd: no such directory"},
		{"create init dies", initproto.ModeStandard, []initproto.Type{log}, true, 0,
			[]initproto.Type{cfgMsg}, "container init exited before it was ready: EOF"},
		{"exec", initproto.ModeExec, []initproto.Type{log, execMsg}, true, 0,
			[]initproto.Type{cfgMsg}, ""},
		// EOF before exec: the init died, the process never started.
		{"exec init dies", initproto.ModeExec, []initproto.Type{log}, true, 0,
			[]initproto.Type{cfgMsg}, "exec init ended before it exec'd the process: EOF"},
		{"exec fails at execve", initproto.ModeExec, []initproto.Type{execMsg, fail}, false, 0,
			[]initproto.Type{cfgMsg}, "process.cwd: no such directory"},
		{"create says exec", initproto.ModeStandard, []initproto.Type{execMsg}, false, 0,
			[]initproto.Type{cfgMsg}, `unexpected message "exec" from init`},
		{"exec fails", initproto.ModeExec, []initproto.Type{fail}, false, 0,
			[]initproto.Type{cfgMsg}, "process.cwd: no such directory"},
		// An exec init has no hooks to ask for, nor a ready to send.
		{"exec asks for hooks", initproto.ModeExec, []initproto.Type{runHooks}, false, 0,
			[]initproto.Type{cfgMsg}, `unexpected message "run-hooks" from exec init`},
		{"exec says ready", initproto.ModeExec, []initproto.Type{ready}, false, 0,
			[]initproto.Type{cfgMsg}, `unexpected message "ready" from exec init`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, answers := fakeInit(t, tt.script, tt.close)
			hooksRun := 0
			c := &conversation{
				cfg:   &initproto.Config{Mode: tt.mode, ID: "c1"},
				spec:  &specs.Spec{},
				state: specs.State{ID: "c1"},
			}
			if tt.mode == initproto.ModeStandard {
				c.runHooks = func() error { hooksRun++; return nil }
			}
			err := p.converse(c)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("converse: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("converse error %v, want %q", err, tt.wantErr)
			}
			if hooksRun != tt.wantHooks {
				t.Errorf("run-hooks answered %d times, want %d", hooksRun, tt.wantHooks)
			}
			p.ch.Close() // ends a fake init still waiting for an answer
			if got := <-answers; strings.Join(types(got), " ") != strings.Join(types(tt.wantAnswers), " ") {
				t.Errorf("the init received %v, want %v", got, tt.wantAnswers)
			}
		})
	}
}

func types(ts []initproto.Type) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}

func TestSendSeccompListenerRefusesUnasked(t *testing.T) {
	// An init that sends a notify fd the spec has no agent for is refused.
	err := sendSeccompListener(&specs.Spec{Linux: &specs.Linux{}}, specs.State{}, []int{0})
	if err == nil || !strings.Contains(err.Error(), "unexpected seccomp notify fd") {
		t.Errorf("err %v", err)
	}
}
