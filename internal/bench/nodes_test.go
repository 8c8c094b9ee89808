package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestParseURLs checks the lists of base URLs that Config.URL and
// SendersURL hold.
func TestParseURLs(t *testing.T) {
	tests := []struct {
		name    string
		list    string
		want    []string // the nodes' keys
		wantErr string
	}{
		{"one", "http://127.0.0.1:3000", []string{"http://127.0.0.1:3000"}, ""},
		{"two", "http://127.0.0.1:3001,http://127.0.0.1:3002", []string{"http://127.0.0.1:3001", "http://127.0.0.1:3002"}, ""},
		{"spaces", " http://a:1 , https://b:2 ", []string{"http://a:1", "https://b:2"}, ""},
		{"path kept out of the key", "http://a:1/chat", []string{"http://a:1"}, ""},
		{"case", "HTTP://Node-1:80", []string{"http://node-1:80"}, ""},
		{"ipv6", "http://[::1]:3000,http://127.0.0.1:3000", []string{"http://[::1]:3000", "http://127.0.0.1:3000"}, ""},
		{"empty", "", nil, "URL 1 of \"\" is empty"},
		{"empty element", "http://a:1,,http://b:2", nil, "URL 2 of"},
		{"trailing comma", "http://a:1,", nil, "URL 2 of"},
		{"twice", "http://a:1,http://A:1", nil, "lists node http://a:1 twice"},
		{"same host, other port", "http://a:1,http://a:2", []string{"http://a:1", "http://a:2"}, ""},
		{"bad scheme", "http://a:1,ws://b:2", nil, `URL scheme "ws"`},
		{"no host", "http://", nil, "has no host"},
		{"unparsable", "http://a:1,http://[::1", nil, "URL \"http://[::1\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			us, err := parseURLs(tt.list)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseURLs(%q) = %v, want an error containing %q", tt.list, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseURLs(%q): %v", tt.list, err)
			}
			var got []string
			for _, u := range us {
				got = append(got, nodeKey(u))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("parseURLs(%q) = %q, want %q", tt.list, got, tt.want)
			}
		})
	}
}

// TestLayout checks how the clients are spread over the nodes: in turn
// over every node, or the senders over theirs and the others over URL's.
func TestLayout(t *testing.T) {
	const (
		a = "http://127.0.0.1:1"
		b = "http://127.0.0.1:2"
		c = "http://127.0.0.1:3"
	)
	tests := []struct {
		name               string
		url, sendersURL    string
		clients, senders   int
		wantNodes          []string // in the order of the layout
		wantOf             []int    // node of each id, 0..clients-1, then two replacements
		wantClients, wantS []int
	}{
		{
			name: "one node", url: a, clients: 4, senders: 2,
			wantNodes: []string{a}, wantOf: []int{0, 0, 0, 0, 0, 0},
			wantClients: []int{4}, wantS: []int{2},
		},
		{
			name: "two nodes, in turn", url: a + "," + b, clients: 5, senders: 3,
			wantNodes: []string{a, b}, wantOf: []int{0, 1, 0, 1, 0, 1, 0},
			wantClients: []int{3, 2}, wantS: []int{2, 1},
		},
		{
			name: "senders on one node, receivers on another", url: b, sendersURL: a, clients: 5, senders: 2,
			wantNodes: []string{b, a}, wantOf: []int{1, 1, 0, 0, 0, 0, 0},
			wantClients: []int{3, 2}, wantS: []int{0, 2},
		},
		{
			name: "senders on one, receivers over two", url: b + "," + c, sendersURL: a, clients: 6, senders: 2,
			wantNodes: []string{b, c, a}, wantOf: []int{2, 2, 0, 1, 0, 1, 0, 1},
			wantClients: []int{2, 2, 2}, wantS: []int{0, 0, 2},
		},
		{
			name: "senders over two, receivers on one of them", url: a, sendersURL: a + "," + b, clients: 5, senders: 3,
			wantNodes: []string{a, b}, wantOf: []int{0, 1, 0, 0, 0, 0, 0},
			wantClients: []int{4, 1}, wantS: []int{2, 1},
		},
		{
			name: "the same node in both lists", url: a, sendersURL: a, clients: 3, senders: 1,
			wantNodes: []string{a}, wantOf: []int{0, 0, 0, 0, 0},
			wantClients: []int{3}, wantS: []int{1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{URL: tt.url, SendersURL: tt.sendersURL, Clients: tt.clients, Senders: tt.senders}.withDefaults()
			l, err := newLayout(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var nodes []string
			for _, n := range l.nodes {
				nodes = append(nodes, n.key)
			}
			if !slices.Equal(nodes, tt.wantNodes) {
				t.Errorf("nodes %q, want %q", nodes, tt.wantNodes)
			}
			var of []int
			for id := range tt.clients + 2 {
				of = append(of, l.nodeOf(id))
			}
			if !slices.Equal(of, tt.wantOf) {
				t.Errorf("nodeOf(0..%d) = %v, want %v", tt.clients+1, of, tt.wantOf)
			}
			clients, senders := l.count(tt.clients)
			if !slices.Equal(clients, tt.wantClients) || !slices.Equal(senders, tt.wantS) {
				t.Errorf("count = %v clients, %v senders; want %v, %v", clients, senders, tt.wantClients, tt.wantS)
			}
			if got, want := l.multi(), len(tt.wantNodes) > 1; got != want {
				t.Errorf("multi() = %v, want %v", got, want)
			}
		})
	}
}

// TestLayoutEndpoints checks each node's Engine.IO endpoints.
func TestLayoutEndpoints(t *testing.T) {
	cfg := Config{URL: "http://127.0.0.1:1/x?q=1#f,https://h:2", Path: "/sio/"}.withDefaults()
	l, err := newLayout(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []nodeInfo{
		{base: "http://127.0.0.1:1/x?q=1#f", key: "http://127.0.0.1:1",
			wsURL: "ws://127.0.0.1:1/sio/?EIO=4&transport=websocket", pollURL: "http://127.0.0.1:1/sio/?EIO=4&transport=polling"},
		{base: "https://h:2", key: "https://h:2",
			wsURL: "wss://h:2/sio/?EIO=4&transport=websocket", pollURL: "https://h:2/sio/?EIO=4&transport=polling"},
	}
	if !slices.Equal(l.nodes, want) {
		t.Errorf("nodes\n%+v\nwant\n%+v", l.nodes, want)
	}
}

// TestConfigNodes checks what validate says of the lists of nodes.
func TestConfigNodes(t *testing.T) {
	many := make([]string, MaxNodes+1)
	for i := range many {
		many[i] = fmt.Sprintf("http://127.0.0.1:%d", 1000+i)
	}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"two nodes", Config{URL: "http://a:1,http://b:2"}, ""},
		{"split", Config{URL: "http://a:1", SendersURL: "http://b:2"}, ""},
		{"bad receiver list", Config{URL: "http://a:1,,"}, "--url: URL 2"},
		{"bad senders list", Config{URL: "http://a:1", SendersURL: "ftp://b"}, "--senders-url: URL scheme"},
		{"split idle", Config{URL: "http://a:1", SendersURL: "http://b:2", Idle: true}, "an idle run has no senders"},
		{"too many", Config{URL: strings.Join(many, ",")}, "want at most 64"},
		{"hostile over https", Config{URL: "http://a:1,https://b:2", Hostile: true}, "plain http"},
		{"hostile over http", Config{URL: "http://a:1", SendersURL: "http://b:2", Hostile: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.withDefaults().validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("validate: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("validate = %v, want ErrConfig containing %q", err, tt.wantErr)
			}
		})
	}
}

// FuzzParseURLs checks that any list is parsed or refused without a
// panic, and that what is parsed is a list of distinct http(s) nodes.
func FuzzParseURLs(f *testing.F) {
	for _, s := range []string{"http://a:1", "http://a:1, https://b", "http://a:1,,", "http://[::1", "HTTP://A,http://a", ","} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		us, err := parseURLs(list)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, u := range us {
			k := nodeKey(u)
			if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || seen[k] {
				t.Fatalf("parseURLs(%q) gave %q", list, u)
			}
			seen[k] = true
		}
		if len(us) != strings.Count(list, ",")+1 {
			t.Fatalf("parseURLs(%q) gave %d URLs for %d elements", list, len(us), strings.Count(list, ",")+1)
		}
	})
}

// TestRunNodes runs against two parley servers that are no cluster: each
// message reaches only the clients on its sender's node, which shows
// where each client went and how the deliveries are counted.
func TestRunNodes(t *testing.T) {
	a, b := newParley(t), newParley(t)
	tests := []struct {
		name            string
		url, sendersURL string
		// sameEach is how many clients hear each message: those on its
		// sender's node, but the sender.
		sameEach  uint64
		nodes     []string
		clients   []int
		senders   []int
		receiving []bool // whether each node's clients hear anything
	}{
		{"in turn", a + "," + b, "", 2, []string{a, b}, []int{3, 3}, []int{1, 1}, []bool{true, true}},
		{"split", b, a, 1, []string{b, a}, []int{4, 2}, []int{0, 2}, []bool{false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Run(context.Background(), Config{
				URL: tt.url, SendersURL: tt.sendersURL, Clients: 6, Senders: 2, Rate: 20,
				Warmup: 200 * time.Millisecond, Duration: time.Second, Drain: 300 * time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			var text bytes.Buffer
			if err := res.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			t.Logf("\n%s", text.String())
			if res.Connected != 6 || res.Sent == 0 {
				t.Fatalf("connected %d, sent %d", res.Connected, res.Sent)
			}
			if res.SameNode == nil || res.CrossNode == nil || len(res.Nodes) != len(tt.nodes) {
				t.Fatalf("same %+v, cross %+v, nodes %+v", res.SameNode, res.CrossNode, res.Nodes)
			}
			if got, want := res.SameNode.Received, res.Sent*tt.sameEach; got != want {
				t.Errorf("same-node deliveries %d, want %d (sent %d × %d)", got, want, res.Sent, tt.sameEach)
			}
			if res.CrossNode.Received != 0 || res.Received != res.SameNode.Received {
				t.Errorf("cross-node deliveries %d, received %d: no node relays to the other", res.CrossNode.Received, res.Received)
			}
			if want := res.Sent * 5; res.Expected != want || res.Loss != want-res.Received {
				t.Errorf("expected %d, loss %d; want %d expected", res.Expected, res.Loss, want)
			}
			var sum uint64
			for i, n := range res.Nodes {
				if n.URL != tt.nodes[i] || n.Clients != tt.clients[i] || n.Senders != tt.senders[i] || n.Connected != tt.clients[i] {
					t.Errorf("node %d: %+v, want %s with %d clients (%d senders), all connected", i, n, tt.nodes[i], tt.clients[i], tt.senders[i])
				}
				if (n.Deliveries.Received > 0) != tt.receiving[i] {
					t.Errorf("node %d: %d deliveries, want some: %v", i, n.Deliveries.Received, tt.receiving[i])
				}
				sum += n.Deliveries.Received
			}
			if sum != res.Received {
				t.Errorf("the nodes' deliveries sum to %d, want %d", sum, res.Received)
			}
			rep, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{`"nodes":[`, `"same_node":{"received":`, `"cross_node":{"received":0,`} {
				if !bytes.Contains(rep, []byte(k)) {
					t.Errorf("JSON lacks %s: %s", k, rep)
				}
			}
		})
	}
}
