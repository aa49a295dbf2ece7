// Package system applies the per-process attributes of a runtime-spec
// config (user, rlimits, oom_score_adj, no_new_privs, scheduler, I/O
// priority, CPU affinity, personality) from inside the container's init,
// and validates them beforehand with field-named errors.
//
// Several of these attributes belong to a thread, not to the process:
// the capability sets, PR_SET_KEEPCAPS, no_new_privs, the scheduling
// policy, the I/O priority, the CPU affinity and the personality. execve
// hands the calling thread's values to the new program, so init must hold
// runtime.LockOSThread from its start and exec from that same thread.
package system
