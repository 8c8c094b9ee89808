//go:build !linux

package main

import "syscall"

// sysProcAttr puts a server in a process group of its own.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// raiseNoFile does nothing: parley bench measures servers through /proc,
// so the comparison runs on Linux only.
func raiseNoFile() error { return nil }
