package fs2

import "errors"

// CPUSharesToWeight maps v1 cpu.shares [2, 262144] linearly onto v2
// cpu.weight [1, 10000], the mapping other runtimes and systemd agree on
// so that a container gets the same weight whichever runtime made it.
// Zero stays zero (unset).
func CPUSharesToWeight(shares uint64) uint64 {
	if shares == 0 {
		return 0
	}
	shares = min(max(shares, 2), 262144)
	return 1 + ((shares-2)*9999)/262142
}

// BlkioWeightToIOWeight maps v1 blkio.weight [10, 1000] onto v2 io.weight
// [1, 10000]. Zero stays zero (unset).
func BlkioWeightToIOWeight(weight uint64) uint64 {
	if weight == 0 {
		return 0
	}
	weight = min(max(weight, 10), 1000)
	return 1 + (weight-10)*9999/990
}

// SwapToV2 turns the spec's memory+swap limit into memory.swap.max, which
// counts swap alone. -1 is "max"; 0 is "leave as is".
func SwapToV2(swap, limit int64) (int64, error) {
	// Unlimited memory without a swap value means unlimited swap too, as
	// on v1 where memsw would otherwise cap memory.
	if limit == -1 && swap == 0 {
		return -1, nil
	}
	if swap == -1 || swap == 0 {
		return swap, nil
	}
	if limit == 0 || limit == -1 {
		return 0, errors.New("a swap limit needs a memory limit")
	}
	if swap < limit {
		return 0, errors.New("memory+swap limit is below the memory limit")
	}
	return swap - limit, nil
}
