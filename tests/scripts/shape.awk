# shape.awk reduces logged runtime invocations ("rc=N (caller) ARGS") to their shape:
# "(caller) global-flags subcommand flags <id> ...", with values abstracted, so that runs
# with different ids and paths compare equal.

BEGIN {
	# Flags of runc-compatible runtimes that take a value (the value is the next word).
	n = split("--root --log --log-format --criu --rootless --bundle -b --pid-file --console-socket " \
		"--process -p --format -f --cwd --env -e --user -u --preserve-fds --process-label " \
		"--apparmor --cap -c --additional-gids -g --signal -s --image-path --work-path", v, " ")
	for (i = 1; i <= n; i++) takes_value[v[i]] = 1
}

function abstract(val) {
	if (val ~ /^\//) return "<path>"
	if (val ~ /^[a-z]+$/) return val
	return "<v>"
}

{
	out = $2
	sub_seen = 0
	npos = 0
	for (i = 3; i <= NF; i++) {
		w = $i
		if (w ~ /^-/) {
			if (index(w, "=") > 0) {
				split(w, kv, "=")
				out = out " " kv[1] "=" abstract(substr(w, length(kv[1]) + 2))
			} else {
				out = out " " w
				if ((w in takes_value) && i < NF) { i++; out = out " " abstract($i) }
			}
			continue
		}
		if (!sub_seen) { sub_seen = 1; subcmd = w; out = out " " w; continue }
		npos++
		if (npos == 1) out = out " <id>"
		else if (subcmd == "kill" && npos == 2) out = out " <sig>"
		else out = out " <arg>"
	}
	print out
}
