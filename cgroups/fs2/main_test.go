package fs2

import (
	"testing"

	"github.com/rtproject/rt/cgroups/internal/cgtest"
)

func TestMain(m *testing.M) { cgtest.Main(m) }
