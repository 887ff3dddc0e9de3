package poller_test

const isLinux = true
