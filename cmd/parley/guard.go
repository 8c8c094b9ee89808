package main

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/socketio"
)

// hostPolicy decides which Host headers parley answers. A page served by
// an attacker's site whose name the attacker then points at the address of
// a parley (DNS rebinding) reaches parley from the visitor's browser, with
// the page's own origin, so that the same-origin check passes; but its
// requests name the attacker's host. Answering only the names parley is
// known by defeats it, for a chat on localhost as for one on a local
// network. Known by default, whatever the address parley listens on:
//   - IP addresses (a rebinding page's requests always name a host name;
//     an address cannot be rebound),
//   - localhost and the names under .localhost (they resolve to the
//     machine itself, never through DNS),
//   - the machine's own name (os.Hostname).
//
// Any other name must be listed (--allowed-hosts), even when parley is
// bound to one specific address: that address may itself be a private one
// that a browser on the same network reaches. A request without a Host
// header (HTTP/1.0) comes from no browser and is answered.
type hostPolicy struct {
	any     bool
	names   map[string]bool // exact names
	domains []string        // ".example.org": it and its subdomains
}

// newHostPolicy returns the policy of allowed (from --allowed-hosts,
// normalised by parseHosts) and the machine's name.
func newHostPolicy(allowed []string, machine string) *hostPolicy {
	p := &hostPolicy{names: make(map[string]bool)}
	if m := normalHost(machine); m != "" {
		p.names[m] = true
	}
	for _, h := range allowed {
		switch {
		case h == "*":
			p.any = true
		case strings.HasPrefix(h, "."):
			p.domains = append(p.domains, h)
		default:
			p.names[h] = true
		}
	}
	return p
}

// normalHost returns the host name of hostport, a Host header, lowercased,
// without its port, brackets or trailing dot.
func normalHost(hostport string) string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// allowed reports whether a request naming hostport is answered.
func (p *hostPolicy) allowed(hostport string) bool {
	if p.any || hostport == "" {
		return true
	}
	host := normalHost(hostport)
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || p.names[host] {
		return true
	}
	for _, d := range p.domains {
		if host == d[1:] || strings.HasSuffix(host, d) {
			return true
		}
	}
	return false
}

// proxies are the reverse proxies parley trusts (--trusted-proxies).
type proxies []netip.Prefix

// trusts reports whether addr, a client address, is a trusted proxy's.
func (ps proxies) trusts(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range ps {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// trustsRequest reports whether r came from a trusted proxy.
func (ps proxies) trustsRequest(r *http.Request) bool {
	if len(ps) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && ps.trusts(ap.Addr())
}

// roomAddress is the chat's Config.ClientAddress: the client address that
// a socket's room creations count against. From a trusted proxy, it is
// the last address of X-Forwarded-For, the one the nearest proxy added
// ("", not capped per address, when there is none: the proxy's own
// address is everyone's); loopback addresses are not capped either, as
// for the connection caps (a proxy on the same machine not listed in
// --trusted-proxies).
func (ps proxies) roomAddress(h *socketio.Handshake) string {
	ap, err := netip.ParseAddrPort(h.Address)
	if err != nil {
		return ""
	}
	a := ap.Addr().Unmap()
	if ps.trusts(a) {
		fwd, err := netip.ParseAddr(lastValue(h.Headers, "X-Forwarded-For"))
		if err != nil {
			return ""
		}
		return chat.AddressKey(fwd)
	}
	if a.IsLoopback() {
		return ""
	}
	return chat.AddressKey(a)
}

// clientAddress is the admin's Config.ClientAddress: the client address
// failed logins count against. From a trusted proxy, it is the last
// address of X-Forwarded-For (the proxy's own when there is none);
// loopback addresses count too.
func (ps proxies) clientAddress(h *socketio.Handshake) string {
	ap, err := netip.ParseAddrPort(h.Address)
	if err != nil {
		return ""
	}
	a := ap.Addr().Unmap()
	if ps.trusts(a) {
		if fwd, err := netip.ParseAddr(lastValue(h.Headers, "X-Forwarded-For")); err == nil {
			return chat.AddressKey(fwd)
		}
	}
	return chat.AddressKey(a)
}

// lastValue returns the last of the comma-separated values of header name:
// the one the nearest proxy added.
func lastValue(h http.Header, name string) string {
	vs := h.Values(name)
	if len(vs) == 0 {
		return ""
	}
	v := vs[len(vs)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}

// requestHost is the host a request names: its Host header, or, from a
// trusted proxy that sets it, X-Forwarded-Host.
func (ps proxies) requestHost(r *http.Request) string {
	if ps.trustsRequest(r) {
		if h := lastValue(r.Header, "X-Forwarded-Host"); h != "" {
			return h
		}
	}
	return r.Host
}

// Log attribute keys.
const (
	logKeyHost   = "host"
	logKeyRemote = "remote"
)

// checkHost refuses, with 421 Misdirected Request, the requests that name
// a host the policy does not allow, on every route.
func checkHost(p *hostPolicy, ps proxies, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if host := ps.requestHost(r); !p.allowed(host) {
			log.Info("request for another host refused", logKeyHost, host, logKeyRemote, r.RemoteAddr)
			w.Header().Set("Connection", "close")
			http.Error(w, "misdirected request: this server does not answer for that host name (see --allowed-hosts)", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody bounds the reading of a request's body to timeout from the end
// of its headers: net/http has no such bound of its own but ReadTimeout,
// which would also cut long polls (see newHTTPServer). It applies to every
// request that has a body, also where the handler reads none, since
// net/http then reads up to 256 KiB of it itself, to reuse the connection.
// WebSocket handshakes are left alone: their connection is taken over, and
// a deadline set here would stay on it.
func limitBody(timeout time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 && r.Header.Get("Upgrade") == "" {
			// A ResponseWriter that cannot set deadlines (a test's
			// recorder) serves without one.
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(timeout))
		}
		next.ServeHTTP(w, r)
	})
}
