// Command zishang is the Socket.IO chat tutorial's server written with
// github.com/zishang520/socket.io, the other Socket.IO server for Go, so
// that bench/compare can measure it beside the Node reference and parley.
//
// It keeps the tutorial's contract and nothing more: a client emits
// new-user with a name and everyone else hears user-connected; it emits
// send-chat-message with a string and everyone else hears chat-message
// {name, message}; when it goes, everyone else hears user-disconnected.
//
// It listens on --addr (or $ADDR, or 127.0.0.1:$PORT) and stops on SIGINT
// or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

// defaultAddr is the address from the environment: $ADDR, else
// 127.0.0.1:$PORT, else 127.0.0.1:3000 as in the tutorial.
func defaultAddr() string {
	if a := os.Getenv("ADDR"); a != "" {
		return a
	}
	if p := os.Getenv("PORT"); p != "" {
		return "127.0.0.1:" + p
	}
	return "127.0.0.1:3000"
}

func run() error {
	addr := flag.String("addr", defaultAddr(), "address to listen on ($ADDR, or 127.0.0.1:$PORT)")
	flag.Parse()

	opts := socket.DefaultServerOptions()
	opts.SetCors(&types.Cors{Origin: "*"})
	opts.SetServeClient(false)
	sio := socket.NewServer(nil, opts)
	attach(sio)

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", sio.ServeHandler(nil))
	srv := &http.Server{Addr: *addr, Handler: mux}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Printf("zishang chat listening on %s", *addr)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Shutdown does not wait for hijacked WebSocket connections; closing
	// the Socket.IO server closes them.
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sio.Close(nil)
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// attach installs the tutorial's handlers on the default namespace.
func attach(sio *socket.Server) {
	var (
		mu    sync.Mutex
		users = map[socket.SocketId]any{} // socket id → name
	)
	nameOf := func(id socket.SocketId) any {
		mu.Lock()
		defer mu.Unlock()
		return users[id]
	}

	sio.On("connection", func(args ...any) {
		s := args[0].(*socket.Socket)
		id := s.Id()

		s.On("new-user", func(args ...any) {
			var name any
			if len(args) > 0 {
				name = args[0]
			}
			mu.Lock()
			users[id] = name
			mu.Unlock()
			s.Broadcast().Emit("user-connected", name)
		})

		s.On("send-chat-message", func(args ...any) {
			var message any
			if len(args) > 0 {
				message = args[0]
			}
			s.Broadcast().Emit("chat-message", map[string]any{"message": message, "name": nameOf(id)})
		})

		s.On("disconnect", func(...any) {
			mu.Lock()
			name := users[id]
			delete(users, id)
			mu.Unlock()
			s.Broadcast().Emit("user-disconnected", name)
		})
	})
}
