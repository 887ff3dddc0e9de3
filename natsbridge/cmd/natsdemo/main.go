// Command natsdemo runs one NATS server in-process (nats-server/v2, as the
// bridge's tests do) for `make run-cluster`, so that the cluster demo needs
// nothing installed. It prints the server's client URL as its first line and
// runs until SIGINT or SIGTERM.
//
//	go run ./cmd/natsdemo -addr 127.0.0.1:4222
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4222", "listen address (port 0 picks one)")
	verbose := flag.Bool("v", false, "log the server's notices to stderr")
	flag.Parse()
	if err := run(*addr, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "natsdemo:", err)
		os.Exit(1)
	}
}

func run(addr string, verbose bool) error {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return fmt.Errorf("port %q: %w", p, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	s, err := server.NewServer(&server.Options{
		ServerName: "natsdemo", Host: host, Port: port, NoLog: !verbose, NoSigs: true,
	})
	if err != nil {
		return err
	}
	if verbose {
		s.ConfigureLogger()
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("no NATS server on %s within 10s (port taken?)", addr)
	}
	fmt.Println(s.ClientURL())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	s.Shutdown()
	s.WaitForShutdown()
	return nil
}
