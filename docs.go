//go:build rtdocs

// With the rtdocs build tag, package main becomes the generator of rt's man
// pages and bash completion, which are thereby made from the command
// definitions themselves (newApp) and cannot drift from them. The shipped rt
// is built without the tag and carries none of this. See `make man` and
// `make completion`:
//
//	rt-docs man DIR               DIR/rt.8 and DIR/rt-<command>.8
//	rt-docs completion FILE       the bash completion script
//
// RT_DOCS_VERSION and RT_DOCS_DATE (YYYY-MM-DD) fill the pages' title lines;
// the Makefile passes rt's version and the date of the last commit, so the
// pages of a given commit come out the same on every machine.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/moby/sys/capability"
	"github.com/urfave/cli"
	"golang.org/x/sys/unix"
)

func init() {
	// go test of package main with the tag runs the generator's tests instead.
	if testing.Testing() {
		return
	}
	if err := generateDocs(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "rt-docs:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func generateDocs(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: rt-docs man DIR | rt-docs completion FILE")
	}
	app := newApp()
	switch args[0] {
	case "man":
		pages, err := manPages(app, os.Getenv("RT_DOCS_VERSION"), os.Getenv("RT_DOCS_DATE"))
		if err != nil {
			return err
		}
		if err := os.MkdirAll(args[1], 0o755); err != nil {
			return err
		}
		for name, page := range pages {
			if err := os.WriteFile(filepath.Join(args[1], name), page, 0o644); err != nil {
				return err
			}
		}
		return nil
	case "completion":
		script, err := bashCompletion(app)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(args[1]), 0o755); err != nil {
			return err
		}
		return os.WriteFile(args[1], script, 0o644)
	}
	return fmt.Errorf("unknown output %q (want man or completion)", args[0])
}

// What the command definitions do not say, for completion.
var (
	// Commands whose first argument names a container that exists. The
	// others that take a <container-id> (create, run, restore) name a new one.
	existingContainerCommands = []string{"checkpoint", "delete", "events", "exec", "kill", "pause", "ps", "resume", "start", "state", "update"}
	newContainerCommands      = []string{"create", "restore", "run"}
	// Flags whose value is a directory, a file, or one of a few words. Other
	// flags' values are not completed.
	dirFlags  = []string{"bundle", "image-path", "parent-path", "root", "work-path"}
	fileFlags = []string{"console-socket", "criu", "log", "pid-file", "pidfd-socket", "process", "resources"}
	wordFlags = map[string][]string{
		"cap":                 capabilityNames(),
		"empty-ns":            {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"},
		"format":              {"json", "table"},
		"log-format":          {"json", "text"},
		"manage-cgroups-mode": {"full", "ignore", "soft", "strict"},
		"rootless":            {"auto", "false", "true"},
	}
)

func capabilityNames() []string {
	var names []string
	for _, c := range capability.ListKnown() {
		names = append(names, "CAP_"+strings.ToUpper(c.String()))
	}
	return names
}

// signalNames are what `rt kill` accepts by name, without and with SIG.
func signalNames() []string {
	var short, long []string
	for sig := unix.Signal(1); sig < 32; sig++ {
		if name := unix.SignalName(sig); name != "" {
			short = append(short, strings.TrimPrefix(name, "SIG"))
			long = append(long, name)
		}
	}
	return append(short, long...)
}

// flagInfo is a cli.Flag as the generators need it.
type flagInfo struct {
	long, short string // without dashes; short may be empty
	usage       string
	def         string // default value worth showing, or ""
	takesValue  bool
}

func flagInfos(flags []cli.Flag) ([]flagInfo, error) {
	var out []flagInfo
	for _, f := range flags {
		d, ok := f.(cli.DocGenerationFlag)
		if !ok {
			return nil, fmt.Errorf("flag %s: no usage to document", f.GetName())
		}
		fi := flagInfo{usage: d.GetUsage(), takesValue: d.TakesValue()}
		for _, n := range strings.Split(f.GetName(), ",") {
			n = strings.TrimSpace(n)
			if len(n) == 1 {
				fi.short = n
			} else {
				fi.long = n
			}
		}
		if fi.long == "" {
			return nil, fmt.Errorf("flag %s: no long name", f.GetName())
		}
		switch v := d.GetValue(); v {
		case "", "0", "false", "[]":
		default:
			if fi.takesValue {
				fi.def = v
			}
		}
		out = append(out, fi)
	}
	return out, nil
}

// helpFlags are what urfave/cli adds to every command (and --version to rt).
func helpFlags(withVersion bool) []cli.Flag {
	if withVersion {
		return []cli.Flag{cli.HelpFlag, cli.VersionFlag}
	}
	return []cli.Flag{cli.HelpFlag}
}

// ---- man pages

// roffEscape makes text safe as roff input: backslashes, and a line that
// would start with a control character.
func roffEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}

// roffProse renders a help text: paragraphs apart by blank lines, filled by
// the formatter, and lines indented by four spaces as literal examples.
func roffProse(w *bytes.Buffer, text string) {
	paragraphs := regexp.MustCompile(`\n[ \t]*\n`).Split(strings.TrimSpace(text), -1)
	for _, p := range paragraphs {
		lines := strings.Split(p, "\n")
		var prose, example []string
		flush := func() {
			if len(prose) > 0 {
				fmt.Fprintf(w, ".PP\n%s\n", roffEscape(strings.Join(prose, "\n")))
				prose = nil
			}
			if len(example) > 0 {
				fmt.Fprintf(w, ".PP\n.RS 4\n.EX\n%s\n.EE\n.RE\n", roffEscape(strings.Join(example, "\n")))
				example = nil
			}
		}
		for _, l := range lines {
			if strings.HasPrefix(l, "    ") {
				if len(prose) > 0 {
					flush()
				}
				example = append(example, strings.TrimPrefix(l, "    "))
				continue
			}
			if len(example) > 0 {
				flush()
			}
			prose = append(prose, strings.TrimSpace(l))
		}
		flush()
	}
}

func roffFlags(w *bytes.Buffer, flags []flagInfo) {
	for _, f := range flags {
		value := ""
		if f.takesValue {
			value = ` \fIvalue\fR`
		}
		fmt.Fprintf(w, ".TP\n\\fB\\-\\-%s\\fR%s", roffEscape(f.long), value)
		if f.short != "" {
			fmt.Fprintf(w, ", \\fB\\-%s\\fR%s", roffEscape(f.short), value)
		}
		fmt.Fprintf(w, "\n%s", roffEscape(f.usage))
		if f.def != "" {
			fmt.Fprintf(w, " (default: %s)", roffEscape(f.def))
		}
		w.WriteString("\n")
	}
}

func roffHeader(w *bytes.Buffer, title, version, date string) {
	fmt.Fprintf(w, ".\\\" Generated by `make man` from rt's command definitions (docs.go); do not edit.\n")
	fmt.Fprintf(w, ".TH %q 8 %q %q \"System Administration\"\n", strings.ToUpper(title), date, strings.TrimSpace("rt "+version))
	// Literal quotes and dashes as typed; no hyphenation inside flag names.
	w.WriteString(".nh\n.ad l\n")
}

// manPages returns rt.8 and rt-<command>.8 by file name.
func manPages(app *cli.App, version, date string) (map[string][]byte, error) {
	pages := map[string][]byte{}
	global, err := flagInfos(append(append([]cli.Flag{}, app.Flags...), helpFlags(true)...))
	if err != nil {
		return nil, err
	}
	name, about, _ := strings.Cut(app.Usage, "\n")

	var w bytes.Buffer
	roffHeader(&w, "rt", version, date)
	fmt.Fprintf(&w, ".SH NAME\nrt \\- %s\n", roffEscape(name))
	w.WriteString(".SH SYNOPSIS\n.B rt\n[\\fIglobal options\\fR] \\fIcommand\\fR [\\fIcommand options\\fR] [\\fIarguments\\fR...]\n")
	w.WriteString(".SH DESCRIPTION\n")
	roffProse(&w, about)
	w.WriteString(".SH COMMANDS\n")
	var see []string
	for _, c := range app.Commands {
		fmt.Fprintf(&w, ".TP\n\\fBrt\\-%s\\fR(8)\n%s\n", roffEscape(c.Name), roffEscape(c.Usage))
		see = append(see, fmt.Sprintf("\\fBrt\\-%s\\fR(8)", roffEscape(c.Name)))
	}
	w.WriteString(".TP\n\\fBhelp\\fR [\\fIcommand\\fR]\nprint the commands, or the help of one\n")
	w.WriteString(".SH \"GLOBAL OPTIONS\"\nThey come before the command.\n")
	roffFlags(&w, global)
	root := ""
	for _, f := range global {
		if f.long == "root" {
			root = f.def
		}
	}
	w.WriteString(`.SH "EXIT STATUS"
rt exits 0 when the command did what it was asked, and non\-zero when it did
not, after printing the error on stderr (and, with \fB\-\-log\fR, to the log).
\fBrt run\fR and \fBrt exec\fR, unless detached, exit with the status of the
process they waited for: its exit code, or 128+\fIN\fR when signal \fIN\fR
killed it. \fBrt exec\fR exits 255 when it fails before its process runs (no
such container, a paused one, no such program, a pid file it cannot write), as
runc does, so that a script can tell that from the process's own status. A
container whose program cannot be executed (a missing interpreter, say) has
started: its process prints the error on its own stderr and exits 255. An
unknown command exits 3.
`)
	if root != "" {
		fmt.Fprintf(&w, ".SH FILES\n.TP\n.I %s\nThe default \\fB\\-\\-root\\fR: a directory for each container, holding its state.\n", roffEscape(root))
	}
	fmt.Fprintf(&w, ".SH \"SEE ALSO\"\n%s,\n\\fBrunc\\fR(8)\n", strings.Join(see, ",\n"))
	pages["rt.8"] = w.Bytes()

	for _, c := range app.Commands {
		flags, err := flagInfos(append(append([]cli.Flag{}, c.Flags...), helpFlags(false)...))
		if err != nil {
			return nil, fmt.Errorf("rt %s: %w", c.Name, err)
		}
		var w bytes.Buffer
		roffHeader(&w, "rt-"+c.Name, version, date)
		fmt.Fprintf(&w, ".SH NAME\nrt\\-%s \\- %s\n", roffEscape(c.Name), roffEscape(c.Usage))
		fmt.Fprintf(&w, ".SH SYNOPSIS\n.B rt\n[\\fIglobal options\\fR]\n.B %s\n[\\fIoptions\\fR]", roffEscape(c.Name))
		if c.ArgsUsage != "" {
			fmt.Fprintf(&w, " %s", roffEscape(c.ArgsUsage))
		}
		w.WriteString("\n.SH DESCRIPTION\n")
		if c.Description == "" {
			return nil, fmt.Errorf("rt %s: no description to document", c.Name)
		}
		roffProse(&w, c.Description)
		w.WriteString(".SH OPTIONS\n")
		roffFlags(&w, flags)
		w.WriteString(".PP\nThe global options are those of \\fBrt\\fR(8).\n")
		fmt.Fprintf(&w, ".SH \"SEE ALSO\"\n\\fBrt\\fR(8)\n")
		pages["rt-"+c.Name+".8"] = w.Bytes()
	}
	return pages, nil
}

// ---- bash completion

func bashCompletion(app *cli.App) ([]byte, error) {
	cmds := map[string]cli.Command{}
	var names []string
	for _, c := range app.Commands {
		cmds[c.Name] = c
		names = append(names, c.Name)
	}
	// Every command taking a container id is known to take an existing or a new one.
	for _, list := range [][]string{existingContainerCommands, newContainerCommands} {
		for _, n := range list {
			if _, ok := cmds[n]; !ok {
				return nil, fmt.Errorf("completion: no command %q", n)
			}
		}
	}
	for _, c := range app.Commands {
		if strings.HasPrefix(c.ArgsUsage, "<container-id>") && !contains(existingContainerCommands, c.Name) && !contains(newContainerCommands, c.Name) {
			return nil, fmt.Errorf("completion: does %q take an existing container or a new one? (docs.go)", c.Name)
		}
	}

	var w bytes.Buffer
	w.WriteString(`# bash completion for rt. Generated by ` + "`make completion`" + ` from rt's command
# definitions (docs.go); do not edit.

# _rt_flags COMMAND prints the flags of COMMAND ("" for the global ones).
_rt_flags() {
	case $1 in
`)
	known := map[string]bool{}
	writeFlags := func(cmd string, flags []cli.Flag) error {
		infos, err := flagInfos(flags)
		if err != nil {
			return err
		}
		var words []string
		for _, f := range infos {
			known[f.long] = true
			words = append(words, "--"+f.long)
			if f.short != "" {
				words = append(words, "-"+f.short)
			}
		}
		fmt.Fprintf(&w, "\t%q) echo %q ;;\n", cmd, strings.Join(words, " "))
		return nil
	}
	if err := writeFlags("", append(append([]cli.Flag{}, app.Flags...), helpFlags(true)...)); err != nil {
		return nil, err
	}
	for _, c := range app.Commands {
		if err := writeFlags(c.Name, append(append([]cli.Flag{}, c.Flags...), helpFlags(false)...)); err != nil {
			return nil, err
		}
	}
	w.WriteString("\tesac\n}\n\n")

	w.WriteString(`# _rt_value COMMAND FLAG prints how FLAG's value is completed (dir, file, none, or
# "words W..."), and fails when FLAG takes no value.
_rt_value() {
	case "$1 $2" in
`)
	byKind := map[string][]string{}
	addValues := func(cmd string, flags []cli.Flag) error {
		infos, err := flagInfos(flags)
		if err != nil {
			return err
		}
		for _, f := range infos {
			if !f.takesValue {
				continue
			}
			kind := "none"
			switch {
			case contains(dirFlags, f.long):
				kind = "dir"
			case contains(fileFlags, f.long):
				kind = "file"
			case wordFlags[f.long] != nil:
				kind = "words " + strings.Join(wordFlags[f.long], " ")
			}
			pat := fmt.Sprintf("%q", cmd+" --"+f.long)
			if f.short != "" {
				pat += fmt.Sprintf(" | %q", cmd+" -"+f.short)
			}
			byKind[kind] = append(byKind[kind], pat)
		}
		return nil
	}
	if err := addValues("", app.Flags); err != nil {
		return nil, err
	}
	for _, c := range app.Commands {
		if err := addValues(c.Name, c.Flags); err != nil {
			return nil, err
		}
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(&w, "\t%s)\n\t\techo %q ;;\n", strings.Join(byKind[k], " | \\\n\t"), k)
	}
	w.WriteString("\t*) return 1 ;;\n\tesac\n}\n\n")
	for _, list := range [][]string{dirFlags, fileFlags, mapKeys(wordFlags)} {
		for _, f := range list {
			if !known[f] {
				return nil, fmt.Errorf("completion: no flag --%s (docs.go)", f)
			}
		}
	}

	fmt.Fprintf(&w, "_rt_commands=%q\n", strings.Join(append(names, "help"), " "))
	fmt.Fprintf(&w, "_rt_existing_container_commands=%q\n", " "+strings.Join(existingContainerCommands, " ")+" ")
	fmt.Fprintf(&w, "_rt_signals=%q\n\n", strings.Join(signalNames(), " "))
	w.WriteString(bashCompletionBody)
	return w.Bytes(), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func mapKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// bashCompletionBody walks the words typed so far: global options, the
// command, its options and its arguments. bash splits "--root=DIR" into
// "--root", "=", "DIR"; both spellings are understood.
const bashCompletionBody = `# _rt_container_ids prints the ids of the containers under the --root typed so far,
# asking the rt being completed.
_rt_container_ids() {
	local i root=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--root=*) root=${COMP_WORDS[i]#--root=} ;;
		--root) if [[ ${COMP_WORDS[i+1]} == = ]]; then root=${COMP_WORDS[i+2]}; else root=${COMP_WORDS[i+1]}; fi ;;
		esac
	done
	"${COMP_WORDS[0]}" ${root:+--root "$root"} list -q 2>/dev/null
}

# _rt_complete_value KIND completes the value of a flag.
_rt_complete_value() {
	local cur=$1 kind=$2
	case $kind in
	dir) COMPREPLY=($(compgen -d -- "$cur")) ;;
	file) COMPREPLY=($(compgen -f -- "$cur")) ;;
	words\ *) COMPREPLY=($(compgen -W "${kind#words }" -- "$cur")) ;;
	*) COMPREPLY=() ;;
	esac
	[[ $kind == dir || $kind == file ]] && compopt -o filenames 2>/dev/null
	return 0
}

_rt() {
	local cur=${COMP_WORDS[COMP_CWORD]} cmd= i w kind nargs=0
	local prev=${COMP_WORDS[COMP_CWORD-1]}
	COMPREPLY=()
	# The flag whose value is being typed, as "--flag value" or "--flag=value".
	local flag=
	if [[ $prev == = && $COMP_CWORD -ge 2 ]]; then
		flag=${COMP_WORDS[COMP_CWORD-2]}
	elif [[ $cur == = ]]; then
		flag=$prev cur=
	elif [[ $COMP_CWORD -ge 2 || $prev == -* ]]; then
		flag=$prev
	fi

	# Global options up to the command.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == -* ]]; then
			if _rt_value "" "$w" >/dev/null; then
				((i++))
				[[ ${COMP_WORDS[i]} == = ]] && ((i++))
			fi
			continue
		fi
		cmd=$w
		break
	done

	if [[ -z $cmd ]]; then
		if [[ $flag == -* ]] && kind=$(_rt_value "" "$flag"); then
			_rt_complete_value "$cur" "$kind"
		elif [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$(_rt_flags "")" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$_rt_commands" -- "$cur"))
		fi
		return 0
	fi

	# The command's options and arguments before the word being completed.
	for ((i++; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == -* && $nargs -eq 0 ]]; then
			if _rt_value "$cmd" "$w" >/dev/null; then
				((i++))
				[[ ${COMP_WORDS[i]} == = ]] && ((i++))
			fi
			continue
		fi
		((nargs++))
	done

	if [[ $nargs -eq 0 && $flag == -* ]] && kind=$(_rt_value "$cmd" "$flag"); then
		_rt_complete_value "$cur" "$kind"
	elif [[ $nargs -eq 0 && $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_rt_flags "$cmd")" -- "$cur"))
	elif [[ $cmd == help || $cmd == h ]]; then
		[[ $nargs -eq 0 ]] && COMPREPLY=($(compgen -W "$_rt_commands" -- "$cur"))
	elif [[ $nargs -eq 0 && $_rt_existing_container_commands == *" $cmd "* ]]; then
		COMPREPLY=($(compgen -W "$(_rt_container_ids)" -- "$cur"))
	elif [[ $nargs -eq 1 && $cmd == kill ]]; then
		COMPREPLY=($(compgen -W "$_rt_signals" -- "$cur"))
	fi
	return 0
}

complete -F _rt rt
`
