package bench

import (
	"fmt"
	"net/url"
	"strings"
)

// nodeInfo is one node of a run.
type nodeInfo struct {
	base    string // the URL as given
	key     string // scheme://host, lowercased: the node's identity
	wsURL   string // its Engine.IO endpoints
	pollURL string
}

// layout is the nodes of a run and which client goes where.
type layout struct {
	nodes []nodeInfo
	// receivers and senders are the nodes that clients that do not send,
	// and senders, are spread over, as indexes into nodes; split tells
	// whether the senders have nodes of their own (Config.SendersURL).
	receivers, senders []int
	split              bool
	nSenders           int
}

// parseURLs splits a comma-separated list of base URLs, each http or
// https with a host. Spaces around the commas are allowed; an empty
// element, or a node listed twice, is refused.
func parseURLs(list string) ([]*url.URL, error) {
	var out []*url.URL
	seen := map[string]bool{}
	for i, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, fmt.Errorf("URL %d of %q is empty", i+1, list)
		}
		u, err := url.Parse(s)
		switch {
		case err != nil:
			return nil, fmt.Errorf("URL %q: %v", s, err)
		case u.Scheme != "http" && u.Scheme != "https":
			return nil, fmt.Errorf("URL scheme %q, want http or https", u.Scheme)
		case u.Host == "":
			return nil, fmt.Errorf("URL %q has no host", s)
		}
		k := nodeKey(u)
		if seen[k] {
			return nil, fmt.Errorf("URL %q lists node %s twice", list, k)
		}
		seen[k] = true
		out = append(out, u)
	}
	return out, nil
}

// nodeKey is a node's identity: its scheme and host, lowercased.
func nodeKey(u *url.URL) string { return strings.ToLower(u.Scheme + "://" + u.Host) }

// newLayout makes the layout of a run with cfg, which has its defaults:
// URL and SendersURL are parsed, and their nodes merged. path is the
// Socket.IO endpoint.
func newLayout(cfg Config) (*layout, error) {
	recv, err := parseURLs(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("%w: --url: %v", ErrConfig, err)
	}
	l := &layout{nSenders: cfg.Senders}
	index := map[string]int{}
	add := func(u *url.URL) int {
		k := nodeKey(u)
		if i, ok := index[k]; ok {
			return i
		}
		index[k] = len(l.nodes)
		l.nodes = append(l.nodes, newNodeInfo(u, cfg.Path))
		return index[k]
	}
	for _, u := range recv {
		l.receivers = append(l.receivers, add(u))
	}
	if cfg.SendersURL == "" {
		l.senders = l.receivers
		return l, nil
	}
	send, err := parseURLs(cfg.SendersURL)
	if err != nil {
		return nil, fmt.Errorf("%w: --senders-url: %v", ErrConfig, err)
	}
	l.split = true
	for _, u := range send {
		l.senders = append(l.senders, add(u))
	}
	return l, nil
}

// newNodeInfo makes the endpoints of the node at base u.
func newNodeInfo(u *url.URL, path string) nodeInfo {
	n := nodeInfo{base: u.String(), key: nodeKey(u)}
	e := *u
	e.Path = path
	e.RawPath = ""
	e.Fragment = ""
	e.RawQuery = "EIO=4&transport=polling"
	n.pollURL = e.String()
	e.Scheme = strings.Replace(e.Scheme, "http", "ws", 1)
	e.RawQuery = "EIO=4&transport=websocket"
	n.wsURL = e.String()
	return n
}

// nodeOf returns the node of client id (senders are the first nSenders
// ids; replacements of the churn come after every first client).
func (l *layout) nodeOf(id int) int {
	switch {
	case !l.split:
		return l.receivers[id%len(l.receivers)]
	case id < l.nSenders:
		return l.senders[id%len(l.senders)]
	default:
		return l.receivers[(id-l.nSenders)%len(l.receivers)]
	}
}

// count returns how many of the first n clients, and of the senders among
// them, each node has.
func (l *layout) count(n int) (clients, senders []int) {
	clients = make([]int, len(l.nodes))
	senders = make([]int, len(l.nodes))
	for id := range n {
		k := l.nodeOf(id)
		clients[k]++
		if id < l.nSenders {
			senders[k]++
		}
	}
	return clients, senders
}

// multi reports whether the run has more than one node.
func (l *layout) multi() bool { return len(l.nodes) > 1 }
