package integration

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestInstall installs rt as a packager would (make install into a DESTDIR), checks the man
// pages render without a warning and document every command and flag the installed rt has,
// drives the bash completion, and checks make uninstall leaves no file behind.
func TestInstall(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(workDir, "destdir")
	const prefix = "/usr/local"
	runMake(t, repo, "install", "DESTDIR="+dest, "PREFIX="+prefix)

	rt := filepath.Join(dest, prefix, "bin/rt")
	manDir := filepath.Join(dest, prefix, "share/man/man8")
	completion := filepath.Join(dest, prefix, "share/bash-completion/completions/rt")
	for _, f := range []string{rt, completion, filepath.Join(manDir, "rt.8"),
		filepath.Join(dest, prefix, "share/doc/rt/LICENSE"), filepath.Join(dest, prefix, "share/doc/rt/THIRD_PARTY_NOTICES")} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("not installed: %v", err)
		}
	}
	if out, err := exec.Command(rt, "--version").Output(); err != nil || !strings.HasPrefix(string(out), "rt version ") {
		t.Errorf("installed rt --version: %v %s", err, out)
	}
	commands := helpCommands(t, rt)

	t.Run("man", func(t *testing.T) {
		pages := map[string]string{"rt.8": ""}
		for _, c := range commands {
			pages["rt-"+c+".8"] = c
		}
		entries, _ := os.ReadDir(manDir)
		for _, e := range entries {
			if _, ok := pages[e.Name()]; !ok {
				t.Errorf("man page %s for no command of rt", e.Name())
			}
		}
		for page, cmd := range pages {
			path := filepath.Join(manDir, page)
			if out, err := exec.Command("groff", "-man", "-ww", "-z", path).CombinedOutput(); err != nil || len(out) > 0 {
				t.Errorf("groff -ww %s: %v\n%s", page, err, out)
			}
			man := exec.Command("man", "--warnings", "-l", path)
			// The C locale renders dashes as typed, so flags can be searched for.
			man.Env = append(os.Environ(), "MANWIDTH=80", "LC_ALL=C", "MANPAGER=cat", "PAGER=cat")
			var stderr strings.Builder
			man.Stderr = &stderr
			out, err := man.Output()
			if err != nil || stderr.Len() > 0 {
				t.Errorf("man -l %s: %v\n%s", page, err, stderr.String())
				continue
			}
			text := string(out)
			if !strings.Contains(text, "NAME") || !strings.Contains(text, "SYNOPSIS") {
				t.Errorf("man -l %s: no NAME or SYNOPSIS:\n%s", page, text)
			}
			// Every flag --help shows is documented, and every command is listed in rt(8).
			var help []string
			if cmd == "" {
				help = []string{"--help"}
				for _, c := range commands {
					if !strings.Contains(text, "rt-"+c+"(8)") {
						t.Errorf("rt(8) does not list %s", c)
					}
				}
			} else {
				help = []string{cmd, "--help"}
			}
			for _, flag := range helpFlags(t, rt, help...) {
				if !regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(flag) + `\b`).MatchString(text) {
					t.Errorf("%s does not document %s", page, flag)
				}
			}
		}
	})

	t.Run("completion", func(t *testing.T) {
		b := newBundle(t, "sleep", "100")
		b.create()
		defer b.remove()
		complete := func(words ...string) []string {
			t.Helper()
			// COMP_WORDS as bash splits the line: "--root=DIR" is "--root", "=", "DIR".
			script := `source "$1"; shift
				complete -p rt >/dev/null || exit 3
				COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
				_rt; printf '%s\n' "${COMPREPLY[@]}"`
			cmd := exec.Command("bash", append([]string{"-c", script, "bash", completion, rt}, words...)...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("complete %q: %v\n%s", words, err, out)
			}
			return strings.Fields(string(out))
		}
		want := func(got []string, wanted ...string) {
			t.Helper()
			for _, w := range wanted {
				if !slices.Contains(got, w) {
					t.Errorf("completions %q lack %q", got, w)
				}
			}
		}
		got := complete("")
		want(got, commands...)
		want(complete("--lo"), "--log", "--log-format")
		want(complete("--log-format", ""), "json", "text")
		want(complete("run", "--bun"), "--bundle")
		want(complete("list", "--format", "="), "json", "table")
		want(complete("--root", b.Root, "kill", ""), b.ID)
		want(complete("--root", "=", b.Root, "state", b.ID[:3]), b.ID)
		want(complete("--log", "/dev/null", "--root", b.Root, "exec", "--tty", ""), b.ID)
		want(complete("--root", b.Root, "kill", b.ID, "KI"), "KILL")
		if got := complete("kill", ""); slices.Contains(got, b.ID) {
			t.Errorf("completion ignored --root: %q", got)
		}
		if got := complete("--root", b.Root, "create", ""); len(got) != 0 {
			t.Errorf("create takes a new container id; completions %q", got)
		}
	})

	runMake(t, repo, "uninstall", "DESTDIR="+dest, "PREFIX="+prefix)
	filepath.WalkDir(dest, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("left after make uninstall: %s", path)
		}
		return nil
	})
	os.RemoveAll(dest)
}

func runMake(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("make", append([]string{"-C", dir, "--no-print-directory"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// helpCommands lists the commands of `rt --help`.
func helpCommands(t *testing.T, rt string) []string {
	t.Helper()
	out, err := exec.Command(rt, "--help").Output()
	if err != nil {
		t.Fatalf("rt --help: %v", err)
	}
	_, section, _ := strings.Cut(string(out), "COMMANDS:\n")
	section, _, _ = strings.Cut(section, "\n\n")
	var cmds []string
	for _, line := range strings.Split(section, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] != "help," {
			cmds = append(cmds, f[0])
		}
	}
	if len(cmds) < 10 {
		t.Fatalf("rt --help lists %d commands:\n%s", len(cmds), out)
	}
	return cmds
}

// helpFlags lists the long flags `rt ARGS` (--help) shows; commands without flags show none.
func helpFlags(t *testing.T, rt string, args ...string) []string {
	t.Helper()
	out, err := exec.Command(rt, args...).Output()
	if err != nil {
		t.Fatalf("rt %s: %v", strings.Join(args, " "), err)
	}
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^\s+(--[a-z0-9-]+)`).FindAllStringSubmatch(string(out), -1) {
		flags = append(flags, m[1])
	}
	return flags
}
