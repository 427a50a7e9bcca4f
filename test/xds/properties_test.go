package xds

// The properties. Each returns its violations (empty: holds), so the mutation tests can assert that breaking a
// manifest on purpose makes it report one. Every expectation comes from the manifests (the *Intent structs).

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	dfpcluster "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/dynamic_forward_proxy/v3"
	sdfp "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/sni_dynamic_forward_proxy/v3"

	"google.golang.org/protobuf/proto"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/simulation"
)

type violations []string

func (v *violations) add(format string, a ...any) { *v = append(*v, fmt.Sprintf(format, a...)) }

// hasForwarder: whether the proxy got any listener or cluster the EnvoyFilter adds.
func hasForwarder(w *WildcardIntent, p *Proxy) []string {
	var found []string
	for _, n := range w.AddedListeners {
		if findListener(p.Listeners, n) != nil {
			found = append(found, "listener "+n)
		}
	}
	for _, n := range w.AddedClusters {
		if findCluster(p.Clusters, n) != nil {
			found = append(found, "cluster "+n)
		}
	}
	return found
}

// isOwnGateway: the proxy is a gateway whose pod the EnvoyFilter's workloadSelector selects.
func isOwnGateway(w *WildcardIntent, p *Proxy) bool {
	return p.Model.Type == model.Router && p.Pod.Namespace == w.Namespace && selects(w.GatewaySelector, p.Pod.Labels)
}

// Property: the SNI forwarder (every listener and cluster the EnvoyFilter adds) exists on our gateway and on no
// other proxy.
func forwarderOnlyOnOwnGateway(w *WildcardIntent, proxies []*Proxy) violations {
	var v violations
	for _, p := range proxies {
		found := hasForwarder(w, p)
		if isOwnGateway(w, p) {
			if len(found) != len(w.AddedListeners)+len(w.AddedClusters) {
				v.add("%s: the EnvoyFilter %s adds listeners %v and clusters %v, the proxy got only %v (patch not applied)", p.Name, w.EnvoyFilter.Name(), w.AddedListeners, w.AddedClusters, found)
			}
		} else if len(found) > 0 {
			v.add("%s: not our gateway, but has the SNI forwarder's %v", p.Name, found)
		}
	}
	return v
}

// forwarderChains: the filter chains of the proxy whose tcp_proxy leads into the SNI forwarder.
func forwarderChains(w *WildcardIntent, p *Proxy) map[*listener.FilterChain]*listener.Listener {
	out := map[*listener.FilterChain]*listener.Listener{}
	for _, l := range p.Listeners {
		if contains(w.AddedListeners, l.Name) {
			continue
		}
		for _, fc := range chains(l) {
			if tp := tcpProxyOf(fc); tp != nil && (tp.GetCluster() == w.ForwarderCluster || contains(w.AddedClusters, tp.GetCluster())) {
				out[fc] = l
			}
		}
	}
	return out
}

// Property: on our gateway the forwarder is reached only through the filter chain of our own Gateway server (the
// chain selected by its SNI, the gateway host), on each of its ports; that chain does lead there (the MERGE applied).
func forwarderOnlyBehindOwnServer(w *WildcardIntent, g *Proxy) violations {
	var v violations
	fcs := forwarderChains(w, g)
	for fc, l := range fcs {
		names := fc.GetFilterChainMatch().GetServerNames()
		if len(names) != 1 || names[0] != w.GatewayHost {
			v.add("%s: listener %s chain %q (server_names %v) leads to the SNI forwarder %s; only the chain of Gateway %s/%s (SNI %s) may",
				g.Name, l.Name, fc.GetName(), names, w.ForwarderCluster, w.Namespace, w.Name, w.GatewayHost)
		}
	}
	for _, port := range w.PodPorts {
		l := listenerOnPort(g.Listeners, port)
		if l == nil {
			v.add("%s: no listener on pod port %d of Gateway %s/%s", g.Name, port, w.Namespace, w.Name)
			continue
		}
		own := chainForSNI(l, w.GatewayHost)
		if own == nil || fcs[own] == nil {
			v.add("%s: listener %s: the chain for SNI %s does not lead to %s (the EnvoyFilter's NETWORK_FILTER MERGE did not apply)", g.Name, l.Name, w.GatewayHost, w.ForwarderCluster)
		}
	}
	return v
}

// Property: the forwarder's server_names are exactly the allow-list (the ServiceEntry's hosts); allowed names
// match its chain, off-list names match no chain; it forwards to the ServiceEntry's port through the dynamic
// forward proxy cluster.
func forwarderServerNamesAreAllowList(w *WildcardIntent, g *Proxy) violations {
	var v violations
	want := append([]string{}, w.AllowList...)
	sort.Strings(want)
	for _, name := range w.AddedListeners {
		l := findListener(g.Listeners, name)
		if l == nil {
			v.add("%s: no forwarder listener %s", g.Name, name)
			continue
		}
		if l.GetDefaultFilterChain() != nil {
			v.add("%s: %s has a default filter chain: names off the allow-list would be forwarded", g.Name, name)
		}
		if len(l.GetFilterChains()) != 1 {
			v.add("%s: %s has %d filter chains, want 1", g.Name, name, len(l.GetFilterChains()))
			continue
		}
		fc := l.GetFilterChains()[0]
		got := append([]string{}, fc.GetFilterChainMatch().GetServerNames()...)
		sort.Strings(got)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			v.add("%s: %s server_names %v, the ServiceEntry's allow-list is %v", g.Name, name, got, want)
		}
		for _, h := range w.AllowList {
			for _, s := range samplesFor(h) {
				if chainForSNI(l, s) == nil {
					v.add("%s: %s: allowed name %s matches no chain", g.Name, name, s)
				}
			}
		}
		for _, s := range offListSamples(w.AllowList) {
			if chainForSNI(l, s) != nil {
				v.add("%s: %s: off-list name %s matches a chain", g.Name, name, s)
			}
		}
		var port uint32
		for _, f := range fc.GetFilters() {
			if c, ok := unpack(f.GetTypedConfig(), &sdfp.FilterConfig{}); ok {
				port = c.GetPortValue()
			}
		}
		if !containsPort(w.ExternalPorts, port) {
			v.add("%s: %s forwards to port %d, the ServiceEntry's ports are %v", g.Name, name, port, w.ExternalPorts)
		}
		tp := tcpProxyOf(fc)
		c := findCluster(g.Clusters, tp.GetCluster())
		if c == nil {
			v.add("%s: %s forwards to cluster %q, which the proxy does not have", g.Name, name, tp.GetCluster())
		} else if _, ok := unpack(c.GetClusterType().GetTypedConfig(), &dfpcluster.ClusterConfig{}); !ok {
			v.add("%s: %s forwards to %s, not a dynamic forward proxy cluster", g.Name, name, c.Name)
		}
	}
	return v
}

func containsPort(l []uint32, p uint32) bool {
	for _, x := range l {
		if x == p {
			return true
		}
	}
	return false
}

// Property: every chain into the forwarder requires Istio mTLS.
func forwarderChainsRequireMTLS(w *WildcardIntent, g *Proxy) violations {
	var v violations
	fcs := forwarderChains(w, g)
	if len(fcs) == 0 {
		v.add("%s: no filter chain leads to the forwarder %s, so there is nothing to check (the MERGE did not apply)", g.Name, w.ForwarderCluster)
	}
	for fc, l := range fcs {
		if err := requiresIstioMTLS(fc); err != nil {
			v.add("%s: listener %s chain %q leads to the forwarder without Istio mTLS: %v", g.Name, l.Name, fc.GetName(), err)
		}
	}
	return v
}

// identitiesToTry: every identity any AuthorizationPolicy of the mesh names, the clients, and an outsider.
func identitiesToTry(m *Mesh) []Identity {
	seen := map[Identity]bool{}
	var out []Identity
	add := func(id Identity) {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, ap := range ofKind(append(append([]Object{}, m.Intended...), m.Objects...), "AuthorizationPolicy") {
		for _, id := range sampleIdentities(policySources(ap)) {
			add(id)
		}
	}
	for _, c := range m.Clients {
		add(c.Identity)
	}
	add(outsider)
	return out
}

func admittedBy(sources []Source, id Identity) bool {
	for _, s := range sources {
		if s.admits(id) {
			return true
		}
	}
	return false
}

// Property: the RBAC in front of the forwarder admits exactly the allowFrom identities (the AuthorizationPolicy's
// sources), on the server's pod port, with its own SNI; nobody without a certificate; nothing on another port;
// identities outside allowFrom reach no forwarder through any chain.
func forwarderRBACAdmitsExactlyAllowFrom(m *Mesh, w *WildcardIntent, g *Proxy) violations {
	var v violations
	for fc, l := range forwarderChains(w, g) {
		port := l.GetAddress().GetSocketAddress().GetPortValue()
		sni := w.GatewayHost
		if names := fc.GetFilterChainMatch().GetServerNames(); len(names) > 0 {
			sni = names[0]
		}
		for _, id := range identitiesToTry(m) {
			want := admittedBy(w.Sources, id) && sni == w.GatewayHost
			got, err := admitted(fc, Request{Principal: id.SPIFFE(), Port: port, SNI: sni})
			if err != nil {
				v.add("%s: %s: %v", g.Name, l.Name, err)
				continue
			}
			if got != want {
				v.add("%s: listener %s chain %q (SNI %s): %s is admitted=%v, the AuthorizationPolicy %s/%s says %v", g.Name, l.Name, fc.GetName(), sni, id, got, w.Namespace, w.Name, want)
			}
			if got, _ := admitted(fc, Request{Principal: id.SPIFFE(), Port: port + 1, SNI: sni}); got {
				v.add("%s: listener %s: %s admitted on port %d, not the server's", g.Name, l.Name, id, port+1)
			}
			if got, _ := admitted(fc, Request{Principal: id.SPIFFE(), Port: port, SNI: "other." + sni}); got {
				v.add("%s: listener %s: %s admitted with SNI other.%s, not the server's own", g.Name, l.Name, id, sni)
			}
		}
		if got, _ := admitted(fc, Request{Port: port, SNI: sni}); got {
			v.add("%s: listener %s: a client without an mTLS identity is admitted", g.Name, l.Name)
		}
	}
	return v
}

// clientSees: whether the mesh VirtualService is exported to the client's namespace.
func exportedTo(exportTo []string, owner, ns string) bool {
	if len(exportTo) == 0 {
		return true
	}
	for _, e := range exportTo {
		if e == "*" || e == ns || (e == "." && ns == owner) {
			return true
		}
	}
	return false
}

// offListCluster: where a sidecar sends what the mesh does not know: PassthroughCluster under ALLOW_ANY,
// BlackHoleCluster (or no chain at all) under REGISTRY_ONLY.
func offListOK(m *Mesh, r simulation.Result) bool {
	return offListOKFor(m, Pod{}, r)
}

// sidecarOf: the Sidecar of the intended manifests that applies to the pod (effectiveSidecar), nil if none.
func (m *Mesh) sidecarOf(pod Pod) Object {
	return effectiveSidecar(m.Intended, pod.Namespace, pod.Labels)
}

// registryOnlyFor: the outbound policy a client pod runs under: its effective Sidecar's (the one whose
// workloadSelector selects the pod, else its namespace's selector-less one) if that sets outboundTrafficPolicy, else
// the mesh's.
func registryOnlyFor(m *Mesh, pod Pod) bool {
	if pod.Namespace != "" {
		if sc := m.sidecarOf(pod); sc != nil {
			if mode := str(path(sc, "spec", "outboundTrafficPolicy", "mode")); mode != "" {
				return mode == "REGISTRY_ONLY"
			}
		}
	}
	return m.Mode.RegistryOnly
}

func offListOKFor(m *Mesh, pod Pod, r simulation.Result) bool {
	if registryOnlyFor(m, pod) {
		return r.ClusterMatched == "BlackHoleCluster" || r.Error == simulation.ErrNoFilterChain
	}
	return r.ClusterMatched == "PassthroughCluster"
}

// simulate: Istio's own traffic simulation (pilot/pkg/simulation: listener, filter chain, route and cluster
// selection as Envoy does it) on the proxy's config.
func (m *Mesh) simulate(t *testing.T, p *Proxy, call simulation.Call) simulation.Result {
	return simulation.NewSimulationFromConfigGen(t, m.Server.ConfigGenTest, p.Model).Run(call)
}

// Property: a client sidecar routes exactly the allowed hosts (on the ServiceEntry's ports) to the gateway's
// subset, over ISTIO_MUTUAL with the gateway's SNI and SAN, if the routes are exported to its namespace; every
// other name (and everything, if not exported) goes where the mesh's outbound policy sends unknown traffic.
func sidecarRoutesAllowList(t *testing.T, m *Mesh, w *WildcardIntent, c *Proxy) violations {
	var v violations
	sc := m.sidecarOf(c.Pod)
	// The client routes a host to this gateway only if the mesh VirtualService is exported to its namespace and its
	// Sidecar (if any) imports both the host and the gateway's Service.
	exported := exportedTo(w.ExportTo, w.Namespace, c.Pod.Namespace) && sidecarImports(sc, w.Namespace, c.Pod.Namespace, w.GatewayHost)
	seesAny := false
	// A name another ServiceEntry the client sees also covers is routed by that ServiceEntry's owner (another
	// construct, or a TLS origination's ServiceEntry port 443, review L9): here it only must not reach this gateway.
	elsewhere := func(name string, port uint32) string {
		for _, se := range ofKind(m.Objects, "ServiceEntry") {
			if se.Namespace() == w.Namespace && se.Name() == w.Name {
				continue
			}
			if !exportedTo(strList(path(se, "spec", "exportTo")), se.Namespace(), c.Pod.Namespace) {
				continue
			}
			imported := false
			for _, h := range strList(path(se, "spec", "hosts")) {
				imported = imported || ((h == name || sniMatches(h, name)) && sidecarImports(sc, se.Namespace(), c.Pod.Namespace, h))
			}
			if !imported {
				continue
			}
			for _, p := range list(path(se, "spec", "ports")) {
				if num(path(p, "number")) != port {
					continue
				}
				for _, h := range strList(path(se, "spec", "hosts")) {
					if h == name || sniMatches(h, name) {
						return se.Namespace() + "/" + se.Name()
					}
				}
			}
		}
		return ""
	}
	for i, port := range w.ExternalPorts {
		want := fmt.Sprintf("outbound|%d|%s|%s", w.GatewayPorts[i], w.Subset, w.GatewayHost)
		for _, h := range w.AllowList {
			sees := exported && sidecarImports(sc, w.Namespace, c.Pod.Namespace, h)
			seesAny = seesAny || sees
			for _, s := range samplesFor(h) {
				r := m.simulate(t, c, simulation.Call{Port: int(port), Address: "198.51.100.7", TLS: simulation.TLS, Sni: s, Protocol: simulation.TCP, CallMode: simulation.CallModeOutbound})
				if sees && r.ClusterMatched != want {
					v.add("%s: TLS to %s:%d goes to %q (%v), want the gateway subset %s", c.Name, s, port, r.ClusterMatched, r.Error, want)
				}
				if !sees && r.ClusterMatched == want {
					v.add("%s: routes are not exported to %s, yet TLS to %s:%d goes to this gateway (%q)", c.Name, c.Pod.Namespace, s, port, r.ClusterMatched)
				} else if !sees && !offListOKFor(m, c.Pod, r) {
					if se := elsewhere(s, port); se != "" {
						t.Logf("%s: TLS to %s:%d goes to %q by ServiceEntry %s, not this construct's", c.Name, s, port, r.ClusterMatched, se)
					} else {
						v.add("%s: routes are not exported to %s, yet TLS to %s:%d goes to %q (%v)", c.Name, c.Pod.Namespace, s, port, r.ClusterMatched, r.Error)
					}
				}
			}
		}
		for _, s := range offListSamples(w.AllowList) {
			r := m.simulate(t, c, simulation.Call{Port: int(port), Address: "198.51.100.7", TLS: simulation.TLS, Sni: s, Protocol: simulation.TCP, CallMode: simulation.CallModeOutbound})
			if r.ClusterMatched != want && !offListOKFor(m, c.Pod, r) && elsewhere(s, port) != "" {
				t.Logf("%s: off-list TLS to %s:%d goes to %q by ServiceEntry %s, not this construct's", c.Name, s, port, r.ClusterMatched, elsewhere(s, port))
				continue
			}
			if r.ClusterMatched == want || !offListOKFor(m, c.Pod, r) {
				v.add("%s: off-list TLS to %s:%d goes to %q (%v); under %s it must go to %s", c.Name, s, port, r.ClusterMatched, r.Error, m.Mode.Name,
					map[bool]string{true: "BlackHoleCluster", false: "PassthroughCluster"}[registryOnlyFor(m, c.Pod)])
			}
		}
		if seesAny {
			v = append(v, istioMutualToGateway(c, want, w.SubsetSNI, w.GatewayHost, w.Namespace, w.GatewaySA)...)
		}
	}
	return v
}

// istioMutualToGateway: the cluster uses Istio mTLS (workload certificate, mesh root), presents sni and verifies
// the gateway's SPIFFE identity.
func istioMutualToGateway(c *Proxy, clusterName, sni, gatewayHost, ns, sa string) violations {
	var v violations
	cl := findCluster(c.Clusters, clusterName)
	if cl == nil {
		return violations{fmt.Sprintf("%s: no cluster %s", c.Name, clusterName)}
	}
	t := upstreamTLS(cl)
	if t == nil {
		return violations{fmt.Sprintf("%s: cluster %s has no upstream TLS", c.Name, clusterName)}
	}
	if t.GetSni() != sni || sni != gatewayHost {
		v.add("%s: cluster %s presents SNI %q; the DestinationRule subset says %q and the gateway server's host is %q", c.Name, clusterName, t.GetSni(), sni, gatewayHost)
	}
	cc := t.GetCommonTlsContext()
	if len(cc.GetTlsCertificateSdsSecretConfigs()) == 0 || cc.GetTlsCertificateSdsSecretConfigs()[0].GetName() != "default" ||
		cc.GetCombinedValidationContext().GetValidationContextSdsSecretConfig().GetName() != "ROOTCA" {
		v.add("%s: cluster %s is not ISTIO_MUTUAL (workload certificate and mesh root)", c.Name, clusterName)
	}
	wantSAN := "spiffe://cluster.local/ns/" + ns + "/sa/" + sa
	if sans := upstreamSANs(t); len(sans) != 1 || sans[0] != wantSAN {
		v.add("%s: cluster %s verifies SANs %v, want exactly the gateway's %s", c.Name, clusterName, sans, wantSAN)
	}
	return v
}

// Property: every listener, cluster, route and endpoint, with each typed_config unpacked, passes protoc-gen-validate.
func resourcesValidate(p *Proxy) (violations, []string) {
	var v violations
	unvalidated := map[string]bool{}
	run := func(name string, msg proto.Message) {
		bad, un := validateAll(name, msg)
		for _, b := range bad {
			v.add("%s: %s", p.Name, b)
		}
		for _, u := range un {
			unvalidated[u] = true
		}
	}
	for _, l := range p.Listeners {
		run("listener "+l.Name, l)
	}
	for _, c := range p.Clusters {
		run("cluster "+c.Name, c)
	}
	for _, r := range p.Routes {
		run("route "+r.Name, r)
	}
	for _, e := range p.Endpoints {
		run("endpoints "+e.ClusterName, e)
	}
	var un []string
	for u := range unvalidated {
		un = append(un, u)
	}
	sort.Strings(un)
	return v, un
}

// ---- TLS origination ----------------------------------------------------------------------------------------------

// Property: the gateway terminates Istio mTLS for each origination host and routes it to the origination cluster of
// that host's port, removing the caller-identifying headers the VirtualService lists.
func originationGatewayRoutes(t *testing.T, m *Mesh, o *OriginationIntent, g *Proxy) violations {
	var v violations
	for i, port := range o.PodPorts {
		for _, r := range o.Routes {
			res := m.simulate(t, g, simulation.Call{Address: g.Pod.IP, Port: int(port), Protocol: simulation.HTTP, TLS: simulation.MTLS, Sni: r.Host, HostHeader: r.Host, CallMode: simulation.CallModeGateway})
			want := fmt.Sprintf("outbound|%d||%s", r.UpstreamPort, r.Host)
			if res.ClusterMatched != want {
				v.add("%s: mTLS HTTP for %s on pod port %d (server port %d) goes to %q (%v), want %s", g.Name, r.Host, port, o.ServerPorts[i], res.ClusterMatched, res.Error, want)
				continue
			}
			l := listenerOnPort(g.Listeners, port)
			if err := requiresIstioMTLS(chainForSNI(l, r.Host)); err != nil {
				v.add("%s: the chain for %s on %d: %v", g.Name, r.Host, port, err)
			}
			rt := findRoute(g.Routes, res.RouteConfigMatched, res.RouteMatched)
			if rt == nil {
				v.add("%s: route %q in %q not found", g.Name, res.RouteMatched, res.RouteConfigMatched)
				continue
			}
			for _, h := range r.RemovedHeaders {
				if !contains(rt.GetRequestHeadersToRemove(), h) {
					v.add("%s: route to %s keeps header %s (the VirtualService removes it); removed: %v", g.Name, r.Host, h, rt.GetRequestHeadersToRemove())
				}
			}
			if len(r.RemovedHeaders) == 0 {
				v.add("%s: the VirtualService for %s removes no caller-identifying headers", g.Name, r.Host)
			}
		}
	}
	return v
}

func findRoute(rcs []*route.RouteConfiguration, config, name string) *route.Route {
	for _, rc := range rcs {
		if rc.Name != config {
			continue
		}
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				if r.Name == name {
					return r
				}
			}
		}
	}
	return nil
}

// Property: the origination cluster verifies the upstream: SNI and SAN as the DestinationRule says, SAN = host.
func originationClustersVerify(o *OriginationIntent, g *Proxy) violations {
	var v violations
	for _, r := range o.Routes {
		name := fmt.Sprintf("outbound|%d||%s", r.UpstreamPort, r.Host)
		v = append(v, verifiesUpstream(g, findCluster(g.Clusters, name), name, r.Host, r.OriginationSNI, r.OriginationSANs)...)
	}
	return v
}

func verifiesUpstream(p *Proxy, c *cluster.Cluster, name, host, sni string, sans []string) violations {
	var v violations
	if c == nil {
		return violations{fmt.Sprintf("%s: no origination cluster %s", p.Name, name)}
	}
	t := upstreamTLS(c)
	if t == nil {
		return violations{fmt.Sprintf("%s: cluster %s does not originate TLS", p.Name, name)}
	}
	if t.GetSni() != host || sni != host {
		v.add("%s: cluster %s presents SNI %q (DestinationRule: %q), want the host %s", p.Name, name, t.GetSni(), sni, host)
	}
	got := upstreamSANs(t)
	if strings.Join(got, ",") != host || strings.Join(sans, ",") != host {
		v.add("%s: cluster %s verifies SANs %v (DestinationRule: %v), want exactly %s", p.Name, name, got, sans, host)
	}
	cc := t.GetCommonTlsContext()
	vc := cc.GetValidationContext()
	if vc == nil {
		vc = cc.GetCombinedValidationContext().GetDefaultValidationContext()
	}
	if vc.GetTrustedCa() == nil && cc.GetCombinedValidationContext().GetValidationContextSdsSecretConfig() == nil && cc.GetValidationContextSdsSecretConfig() == nil {
		v.add("%s: cluster %s verifies no CA", p.Name, name)
	}
	return v
}

// Property: the RBAC on the origination port admits exactly allowFrom, on its pod port, for its own SNI: every chain
// of that port whose server_names are not an origination host admits none of them.
func originationRBAC(m *Mesh, o *OriginationIntent, g *Proxy) violations {
	var v violations
	// Every ALLOW and DENY policy of the intended manifests that applies to the gateway pod, with its rules' sources,
	// operations (hosts, methods, paths, ports) and conditions.
	policies := workloadPolicies(m.Intended, g.Pod.Namespace, g.Pod.Labels)
	methods, paths := requestVariants(policies)
	for _, port := range o.PodPorts {
		l := listenerOnPort(g.Listeners, port)
		if l == nil {
			v.add("%s: no listener on pod port %d", g.Name, port)
			continue
		}
		for _, fc := range chains(l) {
			names := fc.GetFilterChainMatch().GetServerNames()
			own := len(names) > 0
			for _, n := range names {
				own = own && contains(o.Hosts, n)
			}
			sni := o.Hosts[0]
			if len(names) > 0 {
				sni = names[0]
			}
			for _, id := range identitiesToTry(m) {
				id := id
				for _, method := range methods {
					for _, pth := range paths {
						r := Request{Principal: id.SPIFFE(), Port: port, SNI: sni, Method: method, Path: pth, Host: sni}
						byPolicies, err := authzAllows(policies, &id, r)
						if err != nil {
							v.add("%s: %v", g.Name, err)
							return v
						}
						// The origination policy must name the identity: a gateway without any policy is not "exactly allowFrom".
						want := own && byPolicies && admittedBy(o.Sources, id)
						got, err := admitted(fc, r)
						if err != nil {
							v.add("%s: %v", g.Name, err)
							continue
						}
						if got && !want {
							v.add("%s: listener %s chain %q (server_names %v): %s %s %s admitted; the policies of the gateway (allowFrom %v of %s/%s for %v, and its DENY rules) refuse it",
								g.Name, l.Name, fc.GetName(), names, id, method, pth, o.Sources, o.Namespace, o.Name, o.Hosts)
						}
						if own && got != want {
							v.add("%s: listener %s chain %q: %s %s %s admitted=%v, the AuthorizationPolicies say %v", g.Name, l.Name, fc.GetName(), id, method, pth, got, want)
						}
					}
				}
			}
		}
	}
	return v
}

// Property: a client sidecar sends each origination host's plain HTTP to the gateway subset over ISTIO_MUTUAL with
// the subset's SNI and the gateway's SAN.
func originationSidecar(t *testing.T, m *Mesh, o *OriginationIntent, c *Proxy, exportTo []string) violations {
	var v violations
	sc := m.sidecarOf(c.Pod)
	exported := exportedTo(exportTo, o.Namespace, c.Pod.Namespace) && sidecarImports(sc, o.Namespace, c.Pod.Namespace, o.GatewayHost)
	for _, r := range o.Routes {
		// Seen only if exported and imported by the client's Sidecar (host and gateway Service).
		sees := exported && sidecarImports(sc, o.Namespace, c.Pod.Namespace, r.Host)
		addr := m.VIPs[r.Host]
		if addr == "" {
			addr = "198.51.100.8"
		}
		res := m.simulate(t, c, simulation.Call{Address: addr, Port: int(r.MeshPort), Protocol: simulation.HTTP, HostHeader: r.Host, CallMode: simulation.CallModeOutbound})
		gwPort := o.ServerPorts[0]
		want := fmt.Sprintf("outbound|%d|%s|%s", gwPort, r.Subset, o.GatewayHost)
		if !sees {
			if res.ClusterMatched == want {
				v.add("%s: not exported to %s, yet HTTP for %s goes to the gateway subset", c.Name, c.Pod.Namespace, r.Host)
			}
			continue
		}
		if res.ClusterMatched != want {
			v.add("%s: HTTP to %s:%d goes to %q (%v), want %s", c.Name, r.Host, r.MeshPort, res.ClusterMatched, res.Error, want)
			continue
		}
		// The subset presents the origination host as SNI: the name the gateway server's chain is selected by.
		v = append(v, istioMutualToGateway(c, want, r.SubsetSNI, r.Host, o.Namespace, o.GatewaySA)...)
	}
	return v
}

// ---- waypoint ------------------------------------------------------------------------------------------------------

// waypointChain: the filter chain of main_internal for a service port (Istio names it
// inbound-vip|<port>|<protocol>|<host>).
func waypointChain(p *Proxy, port uint32, host string) (*listener.FilterChain, string) {
	l := findListener(p.Listeners, "main_internal")
	if l == nil {
		return nil, ""
	}
	for _, fc := range l.GetFilterChains() {
		parts := strings.Split(fc.GetName(), "|")
		if len(parts) == 4 && parts[0] == "inbound-vip" && parts[1] == fmt.Sprint(port) && parts[3] == host {
			return fc, parts[2]
		}
	}
	return nil, ""
}

// coveringService: the most specific ServiceEntry host of the waypoint that covers name (exact over wildcard,
// longer wildcard over shorter): whose rules govern requests for name.
func coveringService(w *WaypointIntent, name string) (*WaypointService, string) {
	var best *WaypointService
	bestHost := ""
	for _, s := range w.Services {
		for _, h := range s.Hosts {
			if h == name {
				return s, h
			}
			if sniMatches(h, name) && len(h) > len(bestHost) {
				best, bestHost = s, h
			}
		}
	}
	return best, bestHost
}

func (p WaypointPolicy) admits(id Identity, r Request) bool {
	if len(p.Sources) > 0 && !admittedBy(p.Sources, id) {
		return false
	}
	if len(p.Methods) > 0 && !contains(p.Methods, r.Method) {
		return false
	}
	if len(p.Paths) > 0 {
		ok := false
		for _, pp := range p.Paths {
			if pp == r.Path || (strings.HasSuffix(pp, "*") && strings.HasPrefix(r.Path, strings.TrimSuffix(pp, "*"))) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	if len(p.SNI) > 0 {
		ok := false
		for _, s := range p.SNI {
			if s == r.SNI || sniMatches(s, r.SNI) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	for _, s := range p.NotSNI {
		if s == r.SNI || sniMatches(s, r.SNI) {
			return false
		}
	}
	for _, h := range p.NotHosts {
		if h == r.Host || sniMatches(h, r.Host) {
			return false
		}
	}
	return true
}

// Property: at the waypoint, every request or connection is admitted exactly when the rules of the ServiceEntry
// that owns its destination name admit it; names no ServiceEntry covers are refused. The destination name is the
// Host header (HTTP) or the SNI (TLS) the client chose, on every chain whose routing accepts that name.
func waypointRBAC(m *Mesh, w *WaypointIntent, p *Proxy) violations {
	var v violations
	var allHosts []string
	for _, s := range w.Services {
		allHosts = append(allHosts, s.Hosts...)
	}
	for _, s := range w.Services {
		for _, port := range s.Ports {
			for _, h := range s.Hosts {
				fc, proto := waypointChain(p, port.Number, h)
				if fc == nil {
					v.add("%s: no chain for %s port %d (ServiceEntry %s)", p.Name, h, port.Number, s.Name)
					continue
				}
				// Names to try on this chain: the host's samples, every more specific host of the waypoint it
				// covers, and off-list names.
				// The client chooses the destination name only where the waypoint resolves it per request or
				// connection (DYNAMIC_DNS: the dynamic forward proxy follows the Host header or the SNI); otherwise
				// the cluster's host is fixed and the name the client sends does not pick the destination.
				names := []string{h}
				if s.Resolution == "DYNAMIC_DNS" && (proto == "http" || port.Protocol == "TLS") {
					names = samplesFor(h)
					for _, other := range allHosts {
						if other != h && sniMatches(h, other) {
							names = append(names, other)
						}
					}
					names = append(names, offListSamples(allHosts)...)
				}
				for _, name := range names {
					if proto == "http" && !vhostAccepts(fc, p, name) {
						continue // the route refuses the name before it is forwarded
					}
					owner, _ := coveringService(w, name)
					if s.Resolution != "DYNAMIC_DNS" {
						owner = s
					}
					for _, id := range identitiesToTry(m) {
						for _, method := range []string{"GET", "POST"} {
							for _, pth := range pathsToTry(s) {
								r := Request{Principal: id.SPIFFE(), Port: port.Number, SNI: name, Method: method, Path: pth, Host: name}
								if proto != "http" {
									r.Method, r.Path, r.Host = "", "", ""
								}
								want := false
								if owner != nil {
									for _, pol := range owner.Policies {
										if pol.admits(id, r) {
											want = true
										}
									}
								}
								got, err := admitted(fc, r)
								if err != nil {
									v.add("%s: chain %s: %v", p.Name, fc.GetName(), err)
									return v
								}
								// On the chain of the name's own ServiceEntry the rules must hold exactly; where the name
								// arrives through another ServiceEntry's chain (a wildcard covering it), refusing is fine,
								// admitting more than the name's own rules is not.
								if got != want && (owner == s || got) {
									ownerName := "no ServiceEntry"
									if owner != nil {
										ownerName = "ServiceEntry " + owner.Name
									}
									v.add("%s: chain %s: %s %s %s (name %s) admitted=%v, but the rules of %s say %v", p.Name, fc.GetName(), id, r.Method, r.Path, name, got, ownerName, want)
								}
								if proto != "http" {
									break
								}
							}
							if proto != "http" {
								break
							}
						}
					}
				}
			}
		}
	}
	return v
}

func pathsToTry(s *WaypointService) []string {
	out := []string{"/other"}
	for _, p := range s.Policies {
		for _, pp := range p.Paths {
			out = append(out, strings.TrimSuffix(pp, "*"))
		}
	}
	return out
}

// vhostAccepts: whether the chain's HTTP route configuration has a virtual host for the Host header.
func vhostAccepts(fc *listener.FilterChain, p *Proxy, host string) bool {
	h := hcmOf(fc)
	if h == nil {
		return true
	}
	rc := h.GetRouteConfig()
	if rc == nil {
		for _, r := range p.Routes {
			if r.Name == h.GetRds().GetRouteConfigName() {
				rc = r
			}
		}
	}
	for _, vh := range rc.GetVirtualHosts() {
		for _, d := range vh.GetDomains() {
			d = strings.Split(d, ":")[0]
			if d == "*" || d == host || sniMatches(d, host) {
				return true
			}
		}
	}
	return false
}

// Property: the waypoint's origination clusters verify the upstream (SNI and SAN as the DestinationRule says, SAN =
// host) and connect to the ServiceEntry's targetPort.
func waypointOrigination(w *WaypointIntent, p *Proxy) violations {
	var v violations
	for _, s := range w.Services {
		for _, port := range s.Ports {
			for _, h := range s.Hosts {
				tlsCfg, ok := s.TLS[h]
				if !ok {
					continue
				}
				var c *cluster.Cluster
				for _, cl := range p.Clusters {
					parts := strings.Split(cl.Name, "|")
					if len(parts) == 4 && parts[0] == "inbound-vip" && parts[1] == fmt.Sprint(port.Number) && parts[3] == h {
						c = cl
					}
				}
				name := fmt.Sprintf("inbound-vip|%d|*|%s", port.Number, h)
				v = append(v, verifiesUpstream(p, c, name, h, tlsCfg.SNI, tlsCfg.SANs)...)
				if c != nil {
					for _, le := range c.GetLoadAssignment().GetEndpoints() {
						for _, ep := range le.GetLbEndpoints() {
							if got := ep.GetEndpoint().GetAddress().GetSocketAddress().GetPortValue(); got != port.TargetPort {
								v.add("%s: cluster %s connects to port %d, the ServiceEntry's targetPort is %d", p.Name, c.Name, got, port.TargetPort)
							}
						}
					}
				}
			}
		}
	}
	return v
}
