package xds

// The security review's sidecar-mode findings whose outcome is what a proxy does (M6, M4, L9, L6; issue #12), checked
// in istiod's generated xDS. The exact properties are those of the review's fixes (branch `sec`); every expectation a
// finding fixes (header names, filter state keys, resolver options) is the security specification's, not read from
// the manifests under test, so each test fails on the output of commit df4579d (before the fixes) and passes on ours:
//
//	git worktree add /tmp/df4579d df4579d && (cd /tmp/df4579d && npm ci && npx ts-node --transpile-only scripts/synth-examples.ts)
//	XDS_MANIFESTS=/tmp/df4579d bash scripts/xds.sh -run 'TestM6|TestM4|TestL9|TestL6'
//
// The hosts, ports, subsets and gateways are read from the manifests (which host is originated where), as elsewhere.

import (
	"fmt"
	"strings"
	"testing"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	filelog "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	fsv "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/set_filter_state/v3"
	sfs "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/set_filter_state/v3"
	sdfp "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/sni_dynamic_forward_proxy/v3"
	tcpproxy "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	cares "github.com/envoyproxy/go-control-plane/envoy/extensions/network/dns_resolver/cares/v3"
	internalupstream "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/internal_upstream/v3"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"istio.io/istio/pilot/pkg/simulation"
)

// ---- M6: origination clusters resolve without the pod's search domains ------------------------------------------

const caresResolver = "envoy.network.dns_resolver.cares"

// caresOf: the c-ares resolver config of a cluster (nil if the cluster has none).
func caresOf(c *cluster.Cluster) *cares.CaresDnsResolverConfig {
	if c.GetTypedDnsResolverConfig().GetName() != caresResolver {
		return nil
	}
	r, _ := unpack(c.GetTypedDnsResolverConfig().GetTypedConfig(), &cares.CaresDnsResolverConfig{})
	return r
}

// Property (M6): the gateway's cluster for every origination host is STRICT_DNS with c-ares and
// no_default_search_domain (so `edition.cnn.com` is never tried as `edition.cnn.com.<ns>.svc.cluster.local`),
// Istio's udp_max_queries kept, and otherwise equal to the cluster Istio builds without any EnvoyFilter (the MERGE adds,
// it does not lose the TLS origination, lookup family, TTL handling or load assignment).
func m6OriginationClusters(o *OriginationIntent, g, plain *Proxy) violations {
	var v violations
	for _, r := range o.Routes {
		name := fmt.Sprintf("outbound|%d||%s", r.UpstreamPort, r.Host)
		c := findCluster(g.Clusters, name)
		if c == nil {
			v.add("%s: no origination cluster %s", g.Name, name)
			continue
		}
		if c.GetType() != cluster.Cluster_STRICT_DNS {
			v.add("%s: %s is %v, want STRICT_DNS", g.Name, name, c.GetType())
		}
		if n := c.GetTypedDnsResolverConfig().GetName(); n != caresResolver {
			v.add("%s: %s typed_dns_resolver_config %q, want %s", g.Name, name, n, caresResolver)
		}
		cfg := caresOf(c)
		if cfg == nil {
			v.add("%s: %s: no CaresDnsResolverConfig", g.Name, name)
			continue
		}
		if !cfg.GetDnsResolverOptions().GetNoDefaultSearchDomain() {
			v.add("%s: %s resolves with the pod's search domains: dns_resolver_options %v (want no_default_search_domain: true; the EnvoyFilter CLUSTER MERGE did not apply or does not set it)",
				g.Name, name, prototext.Format(cfg.GetDnsResolverOptions()))
		}
		if got := cfg.GetUdpMaxQueries().GetValue(); got != 100 {
			v.add("%s: %s udp_max_queries %d, want Istio's own 100 (the MERGE replaces the Any wholesale and must restate it)", g.Name, name, got)
		}
		bad, _ := validateAll("cluster "+name, c)
		for _, b := range bad {
			v.add("%s: %s", g.Name, b)
		}
		// Compare with the cluster Istio builds without EnvoyFilters.
		base := findCluster(plain.Clusters, name)
		if base == nil {
			v.add("%s: without EnvoyFilters Istio builds no %s: nothing to compare with", plain.Name, name)
			continue
		}
		a, b := proto.Clone(c).(*cluster.Cluster), proto.Clone(base).(*cluster.Cluster)
		a.TypedDnsResolverConfig, b.TypedDnsResolverConfig = nil, nil
		if !proto.Equal(a, b) {
			v.add("%s: %s differs from Istio's own cluster beyond the resolver config:\n  patched: %s\n  Istio's: %s", g.Name, name, prototext.Format(a), prototext.Format(b))
		}
		if bc := caresOf(base); bc != nil {
			x, y := proto.Clone(cfg).(*cares.CaresDnsResolverConfig), proto.Clone(bc).(*cares.CaresDnsResolverConfig)
			x.DnsResolverOptions, y.DnsResolverOptions = nil, nil
			if !proto.Equal(x, y) {
				v.add("%s: %s: the MERGE changed the resolver beyond dns_resolver_options: %s, Istio's: %s", g.Name, name, prototext.Format(x), prototext.Format(y))
			}
		}
		if t := upstreamTLS(c); t == nil || t.GetSni() != r.Host {
			v.add("%s: %s does not originate TLS with SNI %s", g.Name, name, r.Host)
		}
	}
	return v
}

// Property (M6, scope): no proxy but the origination's own gateway gets the resolver option on a cluster of an
// origination host (the patch is bound to the gateway's workloadSelector, service and port).
func m6OnlyOnOwnGateway(o *OriginationIntent, proxies []*Proxy) violations {
	var v violations
	for _, p := range proxies {
		if p.Pod.Namespace == o.Namespace && selects(o.Selector, p.Pod.Labels) && p.Kind == "gateway Router" {
			continue
		}
		for _, c := range p.Clusters {
			parts := strings.Split(c.Name, "|")
			if len(parts) != 4 || !contains(o.Hosts, parts[3]) {
				continue
			}
			if caresOf(c).GetDnsResolverOptions().GetNoDefaultSearchDomain() {
				v.add("%s: cluster %s has no_default_search_domain: the origination's EnvoyFilter reaches a proxy it does not select", p.Name, c.Name)
			}
		}
	}
	return v
}

// withoutEnvoyFilters: the deployed manifests without any EnvoyFilter (what Istio builds on its own).
func withoutEnvoyFilters(objs []Object) []Object {
	var out []Object
	for _, o := range objs {
		if o.Kind() != "EnvoyFilter" {
			out = append(out, o)
		}
	}
	return out
}

// TestM6: security review M6. The TLS-origination gateway resolves each origination host without the pod's search
// domains (resolv.conf ndots:5 would first try <host>.<ns>.svc.cluster.local etc., names an in-cluster Service or a
// search-domain owner could answer). The waypoint is not checked here: the ambient example's only M6 measure is
// `dnsConfig.options ndots: 1` in the waypoint's pod spec (not xDS), and Istio applies no EnvoyFilter CLUSTER
// patch to a waypoint's inbound-vip clusters (cluster.go buildClusters, case model.Waypoint), so the manifests
// claim nothing a waypoint's xDS could show (documented residual risk).
func TestM6(t *testing.T) {
	base := exampleScenario(t, "tls-origination")
	s := withFixtures(t, base, "tls-origination+unrelated-gateway", "m6-unrelated-gateway.yaml")
	forEachMesh(t, s, []MeshMode{meshDefaults, meshRegistryOnly}, func(t *testing.T, m *Mesh) {
		os, err := readOriginations(m.Intended)
		if err != nil {
			t.Fatal(err)
		}
		if len(os) == 0 {
			t.Fatal("the tls-origination example has no TlsOriginationEgress")
		}
		plainMesh := newMesh(t, m.Mode, m.Version, withoutEnvoyFilters(m.Objects), clientsFor(m.Intended, m.Objects))
		proxies := m.allProxies()
		for _, o := range os {
			o := o
			t.Run(o.Namespace+"/"+o.Name, func(t *testing.T) {
				g := m.gateway("gateway Router", o.Selector, o.Namespace)
				plain := plainMesh.gateway("gateway Router (no EnvoyFilters)", o.Selector, o.Namespace)
				property(t, "gateway Router (TLS origination)", "M6: origination clusters STRICT_DNS, c-ares without search domains, otherwise Istio's own", func(t *testing.T) violations {
					return m6OriginationClusters(o, g, plain)
				})
				property(t, "other proxies (M6 scope)", "M6: no other gateway or sidecar gets the origination's resolver option", func(t *testing.T) violations {
					v := m6OnlyOnOwnGateway(o, proxies)
					// The scope check means something only if an unrelated proxy has a cluster of the host at all.
					seen := false
					for _, p := range proxies {
						if !(p.Pod.Namespace == o.Namespace && selects(o.Selector, p.Pod.Labels)) {
							for _, c := range p.Clusters {
								if parts := strings.Split(c.Name, "|"); len(parts) == 4 && contains(o.Hosts, parts[3]) {
									seen = true
									t.Logf("%s has %s (resolver %q)", p.Name, c.Name, c.GetTypedDnsResolverConfig().GetName())
								}
							}
						}
					}
					if !seen {
						v.add("no unrelated proxy has a cluster of %v: the scope check checks nothing (fixture m6-unrelated-gateway.yaml)", o.Hosts)
					}
					return v
				})
			})
		}
	})
}

// ---- M4: the origination gateway strips the caller's identity and address ---------------------------------------

// m4Headers: the headers that name the calling workload or its address; the security specification's list (review
// M4), deliberately not read from the VirtualService under test.
var m4Headers = []string{"x-envoy-external-address", "x-forwarded-for", "x-forwarded-client-cert", "x-envoy-peer-metadata", "x-envoy-peer-metadata-id"}

// routeClusters: the clusters a route sends to.
func routeClusters(r *route.Route) []string {
	var out []string
	if c := r.GetRoute().GetCluster(); c != "" {
		out = append(out, c)
	}
	for _, w := range r.GetRoute().GetWeightedClusters().GetClusters() {
		out = append(out, w.GetName())
	}
	return out
}

// Property (M4): every route of the gateway whose cluster is an origination host's removes every header of m4Headers;
// the simulated request for each host takes such a route.
func m4GatewayStripsCaller(t *testing.T, m *Mesh, o *OriginationIntent, g *Proxy) violations {
	var v violations
	n := 0
	for _, rc := range g.Routes {
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				for _, c := range routeClusters(r) {
					parts := strings.Split(c, "|")
					if len(parts) != 4 || !contains(o.Hosts, parts[3]) {
						continue
					}
					n++
					for _, h := range m4Headers {
						if !contains(r.GetRequestHeadersToRemove(), h) {
							v.add("%s: route %q (config %s, vhost %s) to %s keeps %s; it removes only %v", g.Name, r.GetName(), rc.GetName(), vh.GetName(), c, h, r.GetRequestHeadersToRemove())
						}
					}
					for _, h := range r.GetRequestHeadersToRemove() {
						if !contains(m4Headers, h) {
							t.Logf("%s: route %q also removes %s", g.Name, r.GetName(), h)
						}
					}
				}
			}
		}
	}
	if n == 0 {
		v.add("%s: no route to any of %v", g.Name, o.Hosts)
	}
	// The request each host gets takes one of those routes (and why the removal is needed: Envoy's own setting).
	for _, port := range o.PodPorts {
		for _, r := range o.Routes {
			res := m.simulate(t, g, simulation.Call{Address: g.Pod.IP, Port: int(port), Protocol: simulation.HTTP, TLS: simulation.MTLS, Sni: r.Host, HostHeader: r.Host, CallMode: simulation.CallModeGateway})
			rt := findRoute(g.Routes, res.RouteConfigMatched, res.RouteMatched)
			if rt == nil {
				v.add("%s: mTLS HTTP for %s on %d matches no route (%v)", g.Name, r.Host, port, res.Error)
				continue
			}
			parts := strings.Split(res.ClusterMatched, "|")
			if len(parts) != 4 || parts[3] != r.Host {
				v.add("%s: mTLS HTTP for %s on %d goes to %q, not the host", g.Name, r.Host, port, res.ClusterMatched)
			}
			if fc := chainForSNI(listenerOnPort(g.Listeners, port), r.Host); fc != nil {
				if h := hcmOf(fc); h != nil {
					t.Logf("%s: chain for %s: use_remote_address=%v internal_address_config=%v (Envoy sets x-envoy-external-address on requests it deems external)",
						g.Name, r.Host, h.GetUseRemoteAddress().GetValue(), h.GetInternalAddressConfig())
				}
			}
		}
	}
	return v
}

// TestM4: security review M4. The TLS-origination gateway sends no header naming the calling workload or its address
// (XFCC, XFF, the external address Envoy adds, Istio's peer metadata) to the external host.
func TestM4(t *testing.T) {
	s := exampleScenario(t, "tls-origination")
	forEachMesh(t, s, []MeshMode{meshDefaults, meshRegistryOnly}, func(t *testing.T, m *Mesh) {
		os, err := readOriginations(m.Intended)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range os {
			o := o
			t.Run(o.Namespace+"/"+o.Name, func(t *testing.T) {
				g := m.gateway("gateway Router", o.Selector, o.Namespace)
				property(t, "gateway Router (TLS origination)", "M4: every route to an originated host removes the caller's identity and address headers", func(t *testing.T) violations {
					return m4GatewayStripsCaller(t, m, o, g)
				})
			})
		}
	})
}

// ---- L9: client sidecars never learn the origination host on 443 ------------------------------------------------

// Property (L9, sidecar): the client has no cluster, 443 filter chain or route naming an origination host's upstream
// port; TLS to host:443 goes where unknown traffic goes; plain HTTP to the host still goes to the gateway subset.
func l9Sidecar(t *testing.T, m *Mesh, o *OriginationIntent, c *Proxy, exportTo []string) violations {
	var v violations
	for _, r := range o.Routes {
		up := r.UpstreamPort
		for _, cl := range c.Clusters {
			parts := strings.Split(cl.Name, "|")
			if len(parts) == 4 && parts[3] == r.Host && parts[1] == fmt.Sprint(up) {
				v.add("%s: has cluster %s: the origination's upstream entry (%s:%d) reaches client sidecars", c.Name, cl.Name, r.Host, up)
			}
		}
		for _, l := range c.Listeners {
			if l.GetAddress().GetSocketAddress().GetPortValue() != up {
				continue
			}
			for _, fc := range chains(l) {
				if contains(fc.GetFilterChainMatch().GetServerNames(), r.Host) {
					v.add("%s: listener %s has a filter chain %q for SNI %s", c.Name, l.Name, fc.GetName(), r.Host)
				}
				if tp := tcpProxyOf(fc); tp != nil && strings.HasSuffix(tp.GetCluster(), "|"+r.Host) {
					v.add("%s: listener %s chain %q sends to %s", c.Name, l.Name, fc.GetName(), tp.GetCluster())
				}
			}
		}
		for _, rc := range c.Routes {
			for _, vh := range rc.GetVirtualHosts() {
				for _, d := range vh.GetDomains() {
					if (rc.GetName() == fmt.Sprint(up) && (d == r.Host || strings.HasPrefix(d, r.Host+":"))) || d == fmt.Sprintf("%s:%d", r.Host, up) {
						v.add("%s: route config %s has virtual host %s for %s", c.Name, rc.GetName(), vh.GetName(), d)
					}
				}
			}
		}
		addr := m.VIPs[r.Host]
		if addr == "" {
			addr = "198.51.100.8"
		}
		res := m.simulate(t, c, simulation.Call{Address: addr, Port: int(up), Protocol: simulation.TCP, TLS: simulation.TLS, Sni: r.Host, CallMode: simulation.CallModeOutbound})
		if !offListOKFor(m, c.Pod, res) {
			v.add("%s: TLS to %s:%d goes to %q (%v); under %s it must go where unknown traffic goes (%s)", c.Name, r.Host, up, res.ClusterMatched, res.Error, m.Mode.Name,
				map[bool]string{true: "BlackHoleCluster", false: "PassthroughCluster"}[registryOnlyFor(m, c.Pod)])
		}
	}
	return append(v, originationSidecar(t, m, o, c, exportTo)...)
}

// Property (L9, gateway): the gateway has the upstream cluster of each host and a route to it, and no cluster of the
// host's mesh port (the client entry is not exported to the gateway's namespace).
func l9Gateway(o *OriginationIntent, g *Proxy) violations {
	var v violations
	for _, r := range o.Routes {
		up := fmt.Sprintf("outbound|%d||%s", r.UpstreamPort, r.Host)
		if findCluster(g.Clusters, up) == nil {
			v.add("%s: no upstream cluster %s", g.Name, up)
		}
		routed := false
		for _, rc := range g.Routes {
			for _, vh := range rc.GetVirtualHosts() {
				for _, rt := range vh.GetRoutes() {
					routed = routed || contains(routeClusters(rt), up)
				}
			}
		}
		if !routed {
			v.add("%s: no route to %s", g.Name, up)
		}
		if r.MeshPort != r.UpstreamPort {
			if mesh := fmt.Sprintf("outbound|%d||%s", r.MeshPort, r.Host); findCluster(g.Clusters, mesh) != nil {
				v.add("%s: has %s: the clients' entry (port %d) is visible in the gateway's namespace", g.Name, mesh, r.MeshPort)
			}
		}
	}
	return v
}

// TestL9: security review L9. A client of the TLS origination may send plain HTTP to the host (port 80, to the
// gateway), but its sidecar must not learn host:443: with it, a client's own TLS to the host would leave from the
// sidecar directly, past the gateway, its policy and its log.
// The variant with allowFrom anyInMesh (scenario app l9-origination-any-in-mesh: the clients' entry and route are
// exported to every namespace) checks the same for a sidecar of another namespace (the outsider) and the gateway.
func TestL9(t *testing.T) {
	t.Run("tls-origination", func(t *testing.T) {
		forEachMesh(t, exampleScenario(t, "tls-origination"), meshModes, checkL9)
	})
	t.Run("allowFrom_anyInMesh", func(t *testing.T) {
		objs, ok := scenarioApp(t, "l9-origination-any-in-mesh")
		if !ok {
			return
		}
		forEachMesh(t, Scenario{Name: "l9-any-in-mesh", Intended: objs, Deployed: objs}, meshModes, checkL9)
	})
}

func checkL9(t *testing.T, m *Mesh) {
	os, err := readOriginations(m.Intended)
	if err != nil {
		t.Fatal(err)
	}
	if len(os) == 0 {
		t.Fatal("no TlsOriginationEgress in the manifests")
	}
	for _, o := range os {
		o := o
		t.Run(o.Namespace+"/"+o.Name, func(t *testing.T) {
			var exportTo []string
			for _, vs := range ofKind(m.Intended, "VirtualService") {
				if vs.Namespace() == o.Namespace && contains(strList(path(vs, "spec", "gateways")), o.Namespace+"/"+o.Name) {
					exportTo = strList(path(vs, "spec", "exportTo"))
				}
			}
			g := m.gateway("gateway Router", o.Selector, o.Namespace)
			property(t, "gateway Router (TLS origination)", "L9: gateway has the upstream host:443 and not the clients' host:80", func(t *testing.T) violations {
				return l9Gateway(o, g)
			})
			for _, c := range m.Clients {
				c := c
				t.Run("client "+c.Identity.String(), func(t *testing.T) {
					property(t, "client sidecar (TLS origination)", "L9: no cluster, chain or route for host:443; HTTP still to the gateway subset", func(t *testing.T) violations {
						return l9Sidecar(t, m, o, m.client(c.Identity), exportTo)
					})
				})
			}
		})
	}
}

// ---- L6: the SNI forwarder's log names the client -----------------------------------------------------------------

// The filter state keys the forwarder's log line reads and what sets them (the security specification, review L6).
const (
	l6IdentityKey = "cdk8s-istio-egress.client_identity"
	l6AddressKey  = "cdk8s-istio-egress.client_address"
)

func filterNames(fc *listener.FilterChain) []string {
	var out []string
	for _, f := range fc.GetFilters() {
		out = append(out, f.GetName())
	}
	return out
}

func setFilterStateOf(fc *listener.FilterChain) []*sfs.Config {
	var out []*sfs.Config
	for _, f := range fc.GetFilters() {
		if c, ok := unpack(f.GetTypedConfig(), &sfs.Config{}); ok {
			out = append(out, c)
		}
	}
	return out
}

func formatOf(f *core.SubstitutionFormatString) string {
	if s := f.GetTextFormatSource().GetInlineString(); s != "" {
		return s
	}
	return f.GetTextFormat()
}

// checkValue: one set_filter_state value sets key from format, shared with the upstream (internal) connection once.
func checkValue(where string, vals []*fsv.FilterStateValue, key, format string) violations {
	var v violations
	if len(vals) != 1 {
		return violations{fmt.Sprintf("%s: %d values, want exactly one setting %s from %s", where, len(vals), key, format)}
	}
	x := vals[0]
	if x.GetObjectKey() != key || x.GetFactoryKey() != "envoy.string" || formatOf(x.GetFormatString()) != format || x.GetSharedWithUpstream() != fsv.FilterStateValue_ONCE {
		v.add("%s: sets %q (factory %q) from %q shared %v; want %s (envoy.string) from %s shared ONCE", where, x.GetObjectKey(), x.GetFactoryKey(), formatOf(x.GetFormatString()), x.GetSharedWithUpstream(), key, format)
	}
	return v
}

// Property (L6): on our server's chain, RBAC, then set_filter_state (client address on the new connection, client
// identity after the TLS handshake, both shared once with the internal connection), then the tcp_proxy into the
// forwarder, which connects upstream only after the handshake; the internal cluster passes the filter state on (an
// internal_upstream transport); the forwarder's log line reads both keys; no set_filter_state sets an envoy.* key
// (host and port stay pinned by the SNI DFP filter, which forwards to the ServiceEntry's port).
func l6ForwarderLogsClient(w *WildcardIntent, g *Proxy) violations {
	var v violations
	for _, port := range w.PodPorts {
		l := listenerOnPort(g.Listeners, port)
		if l == nil {
			v.add("%s: no listener on pod port %d", g.Name, port)
			continue
		}
		fc := chainForSNI(l, w.GatewayHost)
		if fc == nil || !contains(fc.GetFilterChainMatch().GetServerNames(), w.GatewayHost) {
			v.add("%s: %s: no chain with server_names [%s]", g.Name, l.Name, w.GatewayHost)
			continue
		}
		names := filterNames(fc)
		iSFS, iTCP, lastRBAC := -1, -1, -1
		for i, n := range names {
			switch n {
			case "envoy.filters.network.set_filter_state":
				if iSFS >= 0 {
					v.add("%s: %s chain %q: more than one set_filter_state: %v", g.Name, l.Name, fc.GetName(), names)
				}
				iSFS = i
			case "envoy.filters.network.tcp_proxy":
				iTCP = i
			case "envoy.filters.network.rbac":
				lastRBAC = i
			}
		}
		switch {
		case iSFS < 0:
			v.add("%s: %s chain %q has no set_filter_state: the forwarder's log cannot name the client (filters %v)", g.Name, l.Name, fc.GetName(), names)
		case iTCP != iSFS+1:
			v.add("%s: %s chain %q: set_filter_state is not directly before tcp_proxy: %v", g.Name, l.Name, fc.GetName(), names)
		case lastRBAC < 0 || lastRBAC > iSFS:
			v.add("%s: %s chain %q: the RBAC filter does not come before set_filter_state (a refused client would get its state set): %v", g.Name, l.Name, fc.GetName(), names)
		}
		for _, c := range setFilterStateOf(fc) {
			where := fmt.Sprintf("%s: %s chain %q set_filter_state", g.Name, l.Name, fc.GetName())
			v = append(v, checkValue(where+" on_new_connection", c.GetOnNewConnection(), l6AddressKey, "%DOWNSTREAM_REMOTE_ADDRESS%")...)
			v = append(v, checkValue(where+" on_downstream_tls_handshake", c.GetOnDownstreamTlsHandshake(), l6IdentityKey, "%DOWNSTREAM_PEER_URI_SAN%")...)
			bad, _ := validateAll(where, c)
			v = append(v, bad...)
		}
		tp := tcpProxyOf(fc)
		if tp == nil {
			v.add("%s: %s chain %q has no tcp_proxy", g.Name, l.Name, fc.GetName())
			continue
		}
		if tp.GetCluster() != w.ForwarderCluster || !strings.HasPrefix(tp.GetCluster(), w.Name+"_sni_cluster_") {
			v.add("%s: %s chain %q: tcp_proxy goes to %q, want the forwarder's internal cluster %s", g.Name, l.Name, fc.GetName(), tp.GetCluster(), w.ForwarderCluster)
		}
		if tp.GetUpstreamConnectMode() != tcpproxy.UpstreamConnectMode_ON_DOWNSTREAM_TLS_HANDSHAKE {
			v.add("%s: %s chain %q: tcp_proxy upstream_connect_mode %v: the internal connection would start before the client identity is known (want ON_DOWNSTREAM_TLS_HANDSHAKE)", g.Name, l.Name, fc.GetName(), tp.GetUpstreamConnectMode())
		}
		bad, _ := validateAll(fmt.Sprintf("%s: %s chain %q tcp_proxy", g.Name, l.Name, fc.GetName()), tp)
		v = append(v, bad...)
	}
	// The internal cluster passes the filter state to the internal listener.
	if c := findCluster(g.Clusters, w.ForwarderCluster); c == nil {
		v.add("%s: no cluster %s", g.Name, w.ForwarderCluster)
	} else {
		ts := c.GetTransportSocket()
		iu, ok := unpack(ts.GetTypedConfig(), &internalupstream.InternalUpstreamTransport{})
		switch {
		case ts.GetName() != "envoy.transport_sockets.internal_upstream" || !ok:
			v.add("%s: cluster %s transport_socket %q: without internal_upstream the filter state does not reach the forwarder's listener", g.Name, c.Name, ts.GetName())
		case len(iu.GetPassthroughMetadata()) != 0:
			v.add("%s: cluster %s passes metadata through: %v", g.Name, c.Name, iu.GetPassthroughMetadata())
		case iu.GetTransportSocket().GetName() != "envoy.transport_sockets.raw_buffer":
			v.add("%s: cluster %s inner transport socket %q, want raw_buffer", g.Name, c.Name, iu.GetTransportSocket().GetName())
		}
		if ok {
			bad, _ := validateAll("cluster "+c.Name+" internal_upstream", iu)
			v = append(v, bad...)
		}
	}
	// The forwarder's log line reads both keys.
	for _, name := range w.AddedListeners {
		l := findListener(g.Listeners, name)
		if l == nil {
			v.add("%s: no forwarder listener %s", g.Name, name)
			continue
		}
		for _, fc := range chains(l) {
			tp := tcpProxyOf(fc)
			var formats []string
			for _, al := range tp.GetAccessLog() {
				if f, ok := unpack(al.GetTypedConfig(), &filelog.FileAccessLog{}); ok {
					formats = append(formats, formatOf(f.GetLogFormat())+f.GetFormat())
				}
			}
			for _, key := range []string{l6IdentityKey, l6AddressKey} {
				want := "%FILTER_STATE(" + key + ":PLAIN)%"
				found := false
				for _, f := range formats {
					found = found || strings.Contains(f, want)
				}
				if !found {
					v.add("%s: forwarder %s: the access log does not contain %s (formats %q)", g.Name, name, want, formats)
				}
			}
			for _, f := range fc.GetFilters() {
				if c, ok := unpack(f.GetTypedConfig(), &sdfp.FilterConfig{}); ok && !containsPort(w.ExternalPorts, c.GetPortValue()) {
					v.add("%s: forwarder %s forwards to port %d, the ServiceEntry's ports are %v", g.Name, name, c.GetPortValue(), w.ExternalPorts)
				}
			}
		}
	}
	// No set_filter_state anywhere sets one of Envoy's own keys (envoy.upstream.dynamic_host/port would let the
	// client's data choose the destination).
	for _, l := range g.Listeners {
		for _, fc := range chains(l) {
			for _, c := range setFilterStateOf(fc) {
				for _, x := range append(append(append([]*fsv.FilterStateValue{}, c.GetOnNewConnection()...), c.GetOnDownstreamTlsHandshake()...), c.GetOnDownstreamData()...) {
					if strings.HasPrefix(x.GetObjectKey(), "envoy.") {
						v.add("%s: listener %s chain %q sets filter state %s", g.Name, l.Name, fc.GetName(), x.GetObjectKey())
					}
				}
			}
		}
	}
	return v
}

// Property (L6, scope): a foreign server's chain on our pods and port gets no set_filter_state and keeps its own
// cluster and Envoy's default connect mode.
func l6ForeignChainsUntouched(m *Mesh, w *WildcardIntent, g *Proxy) violations {
	var v violations
	n := 0
	for _, fs := range foreignServers(m) {
		for i, gp := range w.GatewayPorts {
			if gp != fs.Port {
				continue
			}
			l := listenerOnPort(g.Listeners, w.PodPorts[i])
			if l == nil {
				continue
			}
			fc := chainForSNI(l, fs.Host)
			if fc == nil || !contains(fc.GetFilterChainMatch().GetServerNames(), fs.Host) {
				v.add("%s: no chain for the foreign server's SNI %s on %s", g.Name, fs.Host, l.Name)
				continue
			}
			n++
			if len(setFilterStateOf(fc)) > 0 {
				v.add("%s: %s: the foreign server's chain %q (SNI %s) got our set_filter_state: %v", g.Name, l.Name, fc.GetName(), fs.Host, filterNames(fc))
			}
			tp := tcpProxyOf(fc)
			if fs.Destination != "" && tp.GetCluster() != fs.Destination {
				v.add("%s: %s: the foreign server's tcp_proxy goes to %q, its route says %s", g.Name, l.Name, tp.GetCluster(), fs.Destination)
			}
			if tp.GetUpstreamConnectMode() != tcpproxy.UpstreamConnectMode_IMMEDIATE {
				v.add("%s: %s: the foreign server's tcp_proxy got upstream_connect_mode %v", g.Name, l.Name, tp.GetUpstreamConnectMode())
			}
		}
	}
	if n == 0 {
		v.add("%s: no foreign server chain on our ports: the scope check checks nothing", g.Name)
	}
	return v
}

// TestL6: security review L6. The SNI forwarder's access log line (written on its internal listener, where the
// connection no longer carries the client's certificate or address) names the client: its SPIFFE identity and
// address, set as filter state on our server's chain and passed to the internal connection.
func TestL6(t *testing.T) {
	base := exampleScenario(t, "wildcard-egress")
	for _, s := range []Scenario{base, withFixtures(t, base, "wildcard-egress+foreign-server", "foreign-server.yaml")} {
		s := s
		t.Run(s.Name, func(t *testing.T) {
			forEachMesh(t, s, []MeshMode{meshDefaults, meshRegistryOnly}, func(t *testing.T, m *Mesh) {
				ws, err := readWildcards(m.Intended)
				if err != nil {
					t.Fatal(err)
				}
				if len(ws) == 0 {
					t.Fatal("the wildcard-egress example has no WildcardEgressGateway")
				}
				for _, w := range ws {
					w := w
					t.Run(w.Namespace+"/"+w.Name, func(t *testing.T) {
						g := m.gateway("gateway Router", w.GatewaySelector, w.Namespace)
						property(t, "gateway Router", "L6: forwarder log names client identity and address (filter state set after RBAC, passed to the internal listener)", func(t *testing.T) violations {
							return l6ForwarderLogsClient(w, g)
						})
						if len(m.Objects) > len(m.Intended) {
							property(t, "gateway Router", "L6: a foreign server's chain gets no set_filter_state, keeps its cluster and connect mode", func(t *testing.T) violations {
								return l6ForeignChainsUntouched(m, w, g)
							})
						}
					})
				}
			})
		})
	}
}
