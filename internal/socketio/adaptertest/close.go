package adaptertest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/sioparser"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/wait"
)

// closeChecks are the checks of a cluster with a node that closes.
func closeChecks() []check {
	return []check{{group: "NodeClose", name: "GoneFromTheOthers", run: testNodeClose}}
}

// testNodeClose closes node 2 and checks that the others go on without
// it: its sockets are gone from their fetchSockets, which no longer waits
// for it, nor do their server-side requests, and their broadcasts reach
// each other's sockets.
func testNodeClose(e *env) {
	m := newMesh(e)
	e.handle("who", func(node int, _ *sioparser.Message) any { return node })
	e.closeNode(2)
	for _, cl := range m.get("a2 b2") {
		select {
		case <-cl.so.Done():
		case <-time.After(e.patience):
			e.t.Fatalf("%s still connected after its node closed", cl.label)
		}
	}
	rest := m.get("a0 a1 b0 b1")
	want := strings.Join(labels(rest), " ")
	for _, from := range []int{0, 1} {
		var list []socketio.RemoteSocket
		wait.For(e.t, fmt.Sprintf("fetchSockets on %s to return %s, without error", nodeName(from), want), e.patience, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), requestWait)
			defer cancel()
			var err error
			if list, err = e.nsp(from).FetchSockets(ctx); err != nil {
				return err
			}
			var got []string
			for _, r := range list {
				if cl := m.byID(r.ID); cl != nil {
					got = append(got, cl.label)
				} else {
					got = append(got, r.ID)
				}
			}
			if slices.Sort(got); strings.Join(got, " ") != want {
				return fmt.Errorf("returned %v", got)
			}
			return nil
		})
		m.checkFetched(fmt.Sprintf("fetchSockets on %s after node 2 closed", nodeName(from)), list, rest)

		ctx, cancel := context.WithTimeout(context.Background(), e.patience)
		replies, err := e.nsp(from).ServerSideEmitWithAck(ctx, "who")
		cancel()
		var got []int
		for i := range replyCount(replies) {
			var n int
			_ = replies.Bind(i, &n)
			got = append(got, n)
		}
		if other := 1 - from; err != nil || !slices.Equal(got, []int{other}) {
			e.t.Errorf("ServerSideEmitWithAck on %s after node 2 closed: replies of nodes %v (%v), want [%d]", nodeName(from), got, err, other)
		}
	}
	if err := e.nsp(1).To(red).Emit("after-close"); err != nil {
		e.t.Fatal(err)
	}
	e.expectOnce(1, "after-close", m.get("a0 a1"))
}
