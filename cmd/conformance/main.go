// Command conformance serves what the official Engine.IO v4 and Socket.IO v5
// test suites expect: a raw Engine.IO echo endpoint at /engine.io/ and a
// Socket.IO server at /socket.io/ with short heartbeats.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/engineio"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", ":3000", "address to listen on")
	verbose := flag.Bool("v", false, "log packets")
	flag.Parse()
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	mux := http.NewServeMux()
	echo := engineio.NewServer(engineio.Config{
		PingInterval: 300 * time.Millisecond,
		PingTimeout:  200 * time.Millisecond,
		MaxPayload:   1_000_000,
		Logger:       log,
		NewSession:   func(s *engineio.Session) engineio.Handler { return echoHandler{s} },
	})
	mux.Handle("/engine.io/", echo)
	sio := newSocketIO(log)
	mux.Handle("/socket.io/", sio)

	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// Both servers take their long polls' connections over, as parley's
	// does.
	go func() { errc <- srv.Serve(echo.PollListener(sio.PollListener(ln))) }()
	log.Info("conformance server listening", "addr", *addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = echo.Shutdown(shutdownCtx)
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// echoHandler sends every message back on its session.
type echoHandler struct{ s *engineio.Session }

func (h echoHandler) HandleMessage(data []byte, binary bool) {
	_ = h.s.Send(eioparser.Packet{Type: eioparser.PacketMessage, Data: data, Binary: binary})
}

func (h echoHandler) HandleClose(eioparser.CloseReason) {}
