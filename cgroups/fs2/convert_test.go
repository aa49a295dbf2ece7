package fs2

import "testing"

func TestCPUSharesToWeight(t *testing.T) {
	for _, tc := range []struct{ shares, weight uint64 }{
		{0, 0}, {1, 1}, {2, 1}, {1024, 39}, {512, 20}, {262144, 10000}, {300000, 10000},
	} {
		if got := CPUSharesToWeight(tc.shares); got != tc.weight {
			t.Errorf("CPUSharesToWeight(%d) = %d, want %d", tc.shares, got, tc.weight)
		}
	}
}

func TestBlkioWeightToIOWeight(t *testing.T) {
	for _, tc := range []struct{ blkio, io uint64 }{
		{0, 0}, {10, 1}, {100, 910}, {500, 4950}, {1000, 10000}, {5, 1},
	} {
		if got := BlkioWeightToIOWeight(tc.blkio); got != tc.io {
			t.Errorf("BlkioWeightToIOWeight(%d) = %d, want %d", tc.blkio, got, tc.io)
		}
	}
}

func TestSwapToV2(t *testing.T) {
	for _, tc := range []struct {
		swap, limit, want int64
		bad               bool
	}{
		{0, 0, 0, false},
		{0, -1, -1, false},
		{-1, 100, -1, false},
		{300, 100, 200, false},
		{100, 100, 0, false},
		{50, 100, 0, true},
		{300, 0, 0, true},
		{300, -1, 0, true},
	} {
		got, err := SwapToV2(tc.swap, tc.limit)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("SwapToV2(%d, %d) = %d, %v; want %d (error %v)", tc.swap, tc.limit, got, err, tc.want, tc.bad)
		}
	}
}
