package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// The idle-history scenario's room: the default room holds historyStored
// messages before the server starts, and each client that connects gets
// the last historySent of them (parley's default, chat.DefaultHistoryLimit).
const (
	historyStored = 200
	historySent   = chat.DefaultHistoryLimit
	// historyPeople is how many people wrote the history.
	historyPeople = 7
	// historyText is the text of each message, numbered from 1.
	historyText = "message %d of the room's history, of a length chat messages often have"
)

// historyMessage returns message i (from 0) of the history: its author's
// name and its text, of a typical length. node/server.js makes the same
// ones (HISTORY).
func historyMessage(i int) (name, text string) {
	return "person" + strconv.Itoa(i%historyPeople), fmt.Sprintf(historyText, i+1)
}

// fillHistory stores n messages (historyMessage) in the default room of
// the parley SQLite store at path, creating it, as parley would have
// stored them had people sent them: the server started on it then loads
// them as the room's recent messages.
func fillHistory(ctx context.Context, path string, n int) error {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return fmt.Errorf("opening the store to fill its history: %w", err)
	}
	msgs := make([]store.Message, n)
	now := time.Now()
	for i := range msgs {
		name, text := historyMessage(i)
		msgs[i] = store.Message{Room: chat.DefaultRoom, Author: name, Text: text, Time: now}
	}
	_, err = st.Append(ctx, msgs)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("filling the store's history: %w", err)
	}
	return nil
}
