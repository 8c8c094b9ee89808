package chat_test

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/test/wait"
)

// chatObserver records what a chat.Observer hears.
type chatObserver struct {
	mu          sync.Mutex
	refused     map[string]int
	rateLimited int
	delivered   []time.Duration
}

func newChatObserver() *chatObserver { return &chatObserver{refused: make(map[string]int)} }

func (o *chatObserver) Refused(code string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refused[code]++
}

func (o *chatObserver) RateLimited() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rateLimited++
}

func (o *chatObserver) Delivered(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.delivered = append(o.delivered, d)
}

// TestObserverRefusals checks that the observer hears of each refusal
// once, by code, and of those for a rate limit as such.
func TestObserverRefusals(t *testing.T) {
	obs := newChatObserver()
	// Five events per connection, and no more within the test.
	ts := newServer(t, chat.Config{Observer: obs, Rate: 0.001, Burst: 5})
	stranger := connect(t, ts, sioclient.TransportWebSocket)
	var r struct {
		OK   bool      `json:"ok"`
		Code chat.Code `json:"code"`
	}
	stranger.ack(&r, chat.EventSendChatMessage, "hello") // not joined
	alice := join(t, ts, sioclient.TransportWebSocket, "Alice")
	alice.ack(&r, chat.EventSendChatMessage, 42) // not a string
	alice.ack(&r, chat.EventSendChatMessage, "hello")
	alice.ack(&r, chat.EventJoinRoom, "no/slash") // not a room name
	alice.ack(&r, chat.EventSendChatMessage, "again")
	for range 3 { // past the burst
		alice.ack(&r, chat.EventListRooms)
		if r.Code != chat.CodeRateLimited {
			t.Fatalf("list-rooms past the burst: %+v", r)
		}
	}
	want := map[string]int{"not_joined": 1, "message_invalid": 1, "room_invalid": 1, "rate_limited": 3}
	wait.For(t, "the refusals", 5*time.Second, func() error {
		obs.mu.Lock()
		defer obs.mu.Unlock()
		if !maps.Equal(obs.refused, want) || obs.rateLimited != 3 {
			return fmt.Errorf("refused %v, rate limited %d; want %v, 3", obs.refused, obs.rateLimited, want)
		}
		return nil
	})
	for code := range want {
		if !slices.Contains(chat.Codes(), code) {
			t.Errorf("Codes() lacks %q", code)
		}
	}
}

// TestObserverDeliveries checks that the observer hears how long each
// sampled message took to reach its room's other members, once per
// message, and nothing of a message that nobody else was there to get.
func TestObserverDeliveries(t *testing.T) {
	for _, tc := range []struct {
		sample, messages, want int
	}{
		// The first message, alone, has id 1; the others 2 and on.
		{sample: 0, messages: 5, want: 5}, // every message
		{sample: 2, messages: 5, want: 3}, // ids 2, 4 and 6
		{sample: 5, messages: 3, want: 0}, // ids 2 to 4
	} {
		t.Run(fmt.Sprintf("sample=%d", tc.sample), func(t *testing.T) {
			t.Parallel()
			obs := newChatObserver()
			ts := newServer(t, chat.Config{Observer: obs, DeliverySample: tc.sample})
			alice := join(t, ts, sioclient.TransportWebSocket, "Alice")
			var r struct {
				OK bool `json:"ok"`
			}
			// Alone in the room: no copy to time.
			alice.ack(&r, chat.EventSendChatMessage, "anyone?")
			bob := join(t, ts, sioclient.TransportPolling, "Bob")
			carol := join(t, ts, sioclient.TransportWebSocket, "Carol")
			start := time.Now()
			for i := range tc.messages {
				alice.ack(&r, chat.EventSendChatMessage, fmt.Sprint("hello ", i))
				if !r.OK {
					t.Fatalf("message %d refused", i)
				}
			}
			bob.waitFor(chat.EventChatMessage, tc.messages)
			carol.waitFor(chat.EventChatMessage, tc.messages)
			elapsed := time.Since(start)
			if tc.want == 0 {
				time.Sleep(50 * time.Millisecond)
			}
			wait.For(t, "the deliveries", 5*time.Second, func() error {
				obs.mu.Lock()
				defer obs.mu.Unlock()
				if len(obs.delivered) != tc.want {
					return fmt.Errorf("%d deliveries, want %d", len(obs.delivered), tc.want)
				}
				return nil
			})
			obs.mu.Lock()
			defer obs.mu.Unlock()
			for _, d := range obs.delivered {
				if d <= 0 || d > elapsed {
					t.Errorf("delivery took %v, want within the %v the messages took", d, elapsed)
				}
			}
		})
	}
}
