package initproc

import (
	"os"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// newPtyMaster opens a pty master, as any user may.
func newPtyMaster(t *testing.T) int {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return int(m.Fd())
}

func TestConfigurePty(t *testing.T) {
	for _, tt := range []struct {
		name      string
		size      *specs.Box
		toRT      bool
		wantRows  uint16
		wantCols  uint16
		wantONLCR bool
	}{
		{"engine's pty: as made", nil, false, 0, 0, true},
		{"rt's own relay: no \\r added", nil, true, 0, 0, false},
		{"consoleSize", &specs.Box{Height: 10, Width: 110}, false, 10, 110, true},
		{"consoleSize with one dimension 0 is ignored, as runc", &specs.Box{Height: 10}, false, 0, 0, true},
		{"both", &specs.Box{Height: 50, Width: 200}, true, 50, 200, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := newPtyMaster(t)
			if err := configurePty(m, tt.size, tt.toRT); err != nil {
				t.Fatal(err)
			}
			ws, err := unix.IoctlGetWinsize(m, unix.TIOCGWINSZ)
			if err != nil {
				t.Fatal(err)
			}
			if ws.Row != tt.wantRows || ws.Col != tt.wantCols {
				t.Errorf("size %dx%d, want %dx%d", ws.Row, ws.Col, tt.wantRows, tt.wantCols)
			}
			tio, err := unix.IoctlGetTermios(m, unix.TCGETS)
			if err != nil {
				t.Fatal(err)
			}
			if got := tio.Oflag&unix.ONLCR != 0; got != tt.wantONLCR {
				t.Errorf("ONLCR %t, want %t", got, tt.wantONLCR)
			}
		})
	}
}
