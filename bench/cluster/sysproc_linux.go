package main

import "syscall"

// sysProcAttr puts a process in a group of its own, killed if the
// benchmark dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// raiseNoFile raises the soft limit on open files to the hard one. As the
// benchmark sets it itself, the nodes it starts inherit it (Go otherwise
// gives child processes the limit it found).
func raiseNoFile() error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	lim.Cur = lim.Max
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}
