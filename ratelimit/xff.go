package ratelimit

import (
	"net/netip"
	"strings"
)

// clientAddr returns the address a request is counted by: the peer, or if
// the peer is a trusted proxy, the rightmost X-Forwarded-For hop that is not
// one. The result is unmapped (IPv4 as IPv4) and has no zone.
//
// The header is read right to left: each trusted proxy appends the address
// it received the request from, so hops are believable only as far left as
// the proxies are ours. A hop that does not parse where a trusted proxy's
// entry should be breaks the chain, and so does a chain made only of trusted
// proxies: the peer is counted then. The scan allocates nothing, whatever the
// size of the header.
func (l *Limiter) clientAddr(peer netip.Addr, xff []string) netip.Addr {
	peer = peer.WithZone("").Unmap()
	if !l.isTrusted(peer) {
		return peer
	}
	for i := len(xff) - 1; i >= 0; i-- {
		rest := xff[i]
		for rest != "" {
			var hop string
			if j := strings.LastIndexByte(rest, ','); j >= 0 {
				hop, rest = rest[j+1:], rest[:j]
			} else {
				hop, rest = rest, ""
			}
			hop = strings.Trim(hop, " \t")
			if hop == "" {
				continue // "a,,b" or a trailing comma: no hop
			}
			a, ok := parseHop(hop)
			if !ok {
				return peer
			}
			if !l.isTrusted(a) {
				return a
			}
		}
	}
	return peer
}

func (l *Limiter) isTrusted(a netip.Addr) bool {
	for _, p := range l.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHop parses one X-Forwarded-For entry: an IPv4 or IPv6 address,
// optionally with a port ("192.0.2.1:443", "[2001:db8::1]:443") or in
// brackets ("[2001:db8::1]"), and returns it unmapped and without zone.
func parseHop(s string) (netip.Addr, bool) {
	if len(s) > len("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%"+"]:65535")+32 {
		return netip.Addr{}, false // longer than any address with a port and a short zone
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
			a, err = netip.ParseAddr(s[1 : len(s)-1])
		} else {
			var ap netip.AddrPort
			ap, err = netip.ParseAddrPort(s)
			a = ap.Addr()
		}
	}
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}
