//go:build darwin || freebsd

package poller_test

const isLinux = false
