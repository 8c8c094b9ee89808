//go:build !linux

package testjs

import (
	"os"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

// terminate asks p to stop.
func terminate(p *os.Process) { _ = p.Signal(os.Interrupt) }

// kill kills p.
func kill(p *os.Process) { _ = p.Kill() }
