package bench

import (
	"testing"

	"github.com/parley-chat/parley/internal/sioclient/leaktest"
)

func TestMain(m *testing.M) { leaktest.Main(m) }
