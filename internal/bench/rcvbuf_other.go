//go:build !unix

package bench

import "syscall"

// setSlowRcvBuf leaves the receive buffer as it is where the generator
// does not know how to set it: a slow reader then takes longer to fill it.
func setSlowRcvBuf(_, _ string, _ syscall.RawConn) error { return nil }
