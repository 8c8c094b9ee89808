package bench

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestRunChurn runs a load in which clients leave and join all the
// while, with acked messages, against parley over each transport: the
// steady clients must get every acked message, and the new ones their
// history.
func TestRunChurn(t *testing.T) {
	url := newParley(t)
	for _, tr := range []Transport{TransportWebSocket, TransportPolling} {
		t.Run(string(tr), func(t *testing.T) {
			var progress syncBuffer
			res, err := Run(context.Background(), Config{
				URL:       url,
				Transport: tr,
				Clients:   16,
				Senders:   2,
				Rate:      10,
				Warmup:    300 * time.Millisecond,
				Duration:  1500 * time.Millisecond,
				Churn:     8,
				Ack:       true,
				Progress:  &progress,
			})
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			if err := res.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			t.Logf("\n%s%s", progress.String(), text.String())
			c, a := res.Churn, res.Acks
			if c == nil || a == nil {
				t.Fatalf("churn %v, acks %v", c, a)
			}
			// 8 a second for 1.8 s, of the 7 receivers that churn.
			if c.Left < 10 || c.Joined+c.JoinFailed > c.Left || c.JoinFailed > 0 {
				t.Errorf("churn %+v: want about 14 left and as many joined", *c)
			}
			// The senders and the 7 other receivers stay.
			if res.Steady != 9 || a.Steady != 9 || res.Dropped != 0 {
				t.Errorf("steady %d (acks %d), dropped %d; want 9, none dropped", res.Steady, a.Steady, res.Dropped)
			}
			if a.Acked == 0 || a.Acked != res.Sent || a.Refused+a.Unanswered != 0 || a.Lost+a.Missing != 0 {
				t.Errorf("acks %+v of %d sent: want all acked, none lost", *a, res.Sent)
			}
			if res.Expected != a.Acked*8 || res.Received != res.Expected || res.Loss != 0 {
				t.Errorf("expected %d (acked %d × 8), received %d, loss %d", res.Expected, a.Acked, res.Received, res.Loss)
			}
			if res.History == 0 {
				t.Errorf("the new clients got no history")
			}
			if !strings.Contains(progress.String(), "left") || !strings.Contains(text.String(), "acked lost") {
				t.Errorf("no churn in the progress or acks in the text")
			}
			checkJSON(t, res)
		})
	}
}
