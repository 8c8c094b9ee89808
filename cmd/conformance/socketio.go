package main

import (
	"log/slog"
	"net/http"
)

func newSocketIO(log *slog.Logger) http.Handler { return http.NotFoundHandler() }
