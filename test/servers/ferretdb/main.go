// Command ferretdb-test runs FerretDB (SQLite backend) embedded, for the
// project's tests only. The upstream cmd/ferretdb cannot be `go install`ed
// (its generated version.txt is not in the module), so we wrap the
// embeddable package instead.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on (loopback only)")
	dataDir := flag.String("data-dir", "", "existing directory for the SQLite databases")
	telemetry := flag.String("telemetry", "disable", "must be 'disable': the test server never phones home")
	logLevel := flag.String("log-level", "error", "debug, info, warn or error")
	flag.Parse()

	if *telemetry != "disable" {
		fail("only --telemetry=disable is supported")
	}
	if *dataDir == "" {
		fail("--data-dir is required")
	}
	if !strings.HasPrefix(*listen, "127.") && !strings.HasPrefix(*listen, "localhost:") {
		fail("--listen-addr must be a loopback address, got " + *listen)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fail("bad --log-level: " + err.Error())
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	// SQLite wants a file: URL of an existing directory that ends with '/'.
	dir := strings.TrimSuffix(*dataDir, "/") + "/"
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir,
	})
	if err != nil {
		fail(err.Error())
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Printf("ready %s\n", f.MongoDBURI())
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "ferretdb-test:", msg)
	os.Exit(2)
}
