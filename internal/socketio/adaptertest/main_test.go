package adaptertest

import (
	"testing"

	"github.com/parley-chat/parley/internal/test/leaktest"
)

func TestMain(m *testing.M) { leaktest.Main(m) }
