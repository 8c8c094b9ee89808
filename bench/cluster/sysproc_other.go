//go:build !linux

package main

import "syscall"

// sysProcAttr puts a process in a group of its own.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// raiseNoFile does nothing: the benchmark reads /proc, and runs on Linux
// only.
func raiseNoFile() error { return nil }
