//go:build unix

package bench

import "syscall"

// setSlowRcvBuf is a net.Dialer Control that shrinks the socket's receive
// buffer to slowRcvBuf before it connects, when the TCP window is
// negotiated.
func setSlowRcvBuf(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, slowRcvBuf)
	}); err != nil {
		return err
	}
	return serr
}
