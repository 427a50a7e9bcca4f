package xds

// Scenarios (manifest sets x mesh configurations x proxy versions), the per-property subtests and the summary.

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"istio.io/istio/pilot/pkg/model"
)

// ---- summary -----------------------------------------------------------------------------------------------------

type tally struct{ passed, failed int }

var (
	summaryMu sync.Mutex
	summary   = map[string]map[string]*tally{} // proxy kind -> property -> tally
)

func record(proxy, prop string, ok bool) {
	summaryMu.Lock()
	defer summaryMu.Unlock()
	if summary[proxy] == nil {
		summary[proxy] = map[string]*tally{}
	}
	if summary[proxy][prop] == nil {
		summary[proxy][prop] = &tally{}
	}
	if ok {
		summary[proxy][prop].passed++
	} else {
		summary[proxy][prop].failed++
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	var b strings.Builder
	fmt.Fprintf(&b, "\nxDS summary (istiod's generator; checks per proxy and property, over all scenarios):\n")
	proxies := make([]string, 0, len(summary))
	for p := range summary {
		proxies = append(proxies, p)
	}
	sort.Strings(proxies)
	for _, p := range proxies {
		fmt.Fprintf(&b, "  %s\n", p)
		props := make([]string, 0, len(summary[p]))
		for q := range summary[p] {
			props = append(props, q)
		}
		sort.Strings(props)
		for _, q := range props {
			t := summary[p][q]
			status := "ok  "
			if t.failed > 0 {
				status = "FAIL"
			}
			fmt.Fprintf(&b, "    %s %-78s %4d passed %4d failed\n", status, q, t.passed, t.failed)
		}
	}
	fmt.Print(b.String())
	if f := os.Getenv("XDS_SUMMARY"); f != "" {
		_ = os.WriteFile(f, []byte(b.String()), 0o644)
	}
	os.Exit(code)
}

// property runs one property check as a subtest named after it, records it in the summary, and reports every
// violation.
func property(t *testing.T, proxyKind, name string, check func(t *testing.T) violations) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		v := check(t)
		record(proxyKind, name, len(v) == 0)
		for _, x := range v {
			t.Error(x)
		}
	})
}

// ---- scenarios ---------------------------------------------------------------------------------------------------

// Scenario: the manifests a mesh runs (intended: what the library synthesized; deployed: what istiod gets, the
// same unless a mutation test breaks it on purpose) and the foreign objects added to them.
type Scenario struct {
	Name     string
	Intended []Object
	Deployed []Object
}

// loadOrFatal(t)(loadExample(name)): the objects, or the test stops with the error.
func loadOrFatal(t *testing.T) func([]Object, error) []Object {
	return func(objs []Object, err error) []Object {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return objs
	}
}

// exampleScenarios: every example alone, and all of them together in one mesh.
func exampleScenarios(t *testing.T) []Scenario {
	t.Helper()
	names, err := exampleNames()
	if err != nil {
		t.Fatal(err)
	}
	var out []Scenario
	var all []Object
	seen := map[string]Object{}
	for _, n := range names {
		objs := loadOrFatal(t)(loadExample(n))
		out = append(out, Scenario{Name: n, Intended: objs, Deployed: objs})
		for _, o := range objs {
			// Applying every example to one cluster: an object two examples define identically (examples/quick-start is
			// the README's copy of examples/wildcard-egress) is one object; the same key with other content is a clash.
			key := o.APIVersion() + "|" + o.String()
			if prev, ok := seen[key]; ok {
				if !reflect.DeepEqual(prev, o) {
					t.Fatalf("examples %s: %s is defined twice with different content; one cluster cannot hold both", n, o)
				}
				continue
			}
			seen[key] = o
			all = append(all, o)
		}
	}
	return append(out, Scenario{Name: "all-examples-in-one-mesh", Intended: all, Deployed: all})
}

// withFixtures: a scenario plus foreign objects (test/xds/fixtures) in what istiod gets.
func withFixtures(t *testing.T, s Scenario, name string, fixtures ...string) Scenario {
	t.Helper()
	out := Scenario{Name: name, Intended: s.Intended, Deployed: append([]Object{}, s.Deployed...)}
	for _, f := range fixtures {
		out.Deployed = append(out.Deployed, loadOrFatal(t)(loadFixture(f))...)
	}
	return out
}

func exampleScenario(t *testing.T, name string) Scenario {
	t.Helper()
	objs := loadOrFatal(t)(loadExample(name))
	return Scenario{Name: name, Intended: objs, Deployed: objs}
}

// clientsFor: a client sidecar for every identity an AuthorizationPolicy (ours or a fixture's) names, plus an
// outsider no policy names.
func clientsFor(objs ...[]Object) []Identity {
	seen := map[Identity]bool{outsider: true}
	out := []Identity{outsider}
	for _, set := range objs {
		for _, ap := range ofKind(set, "AuthorizationPolicy") {
			for _, id := range sampleIdentities(policySources(ap)) {
				if !seen[id] {
					seen[id] = true
					out = append(out, id)
				}
			}
		}
	}
	return out
}

// forEachMesh runs fn for the scenario under each mesh configuration and proxy version.
func forEachMesh(t *testing.T, s Scenario, modes []MeshMode, fn func(t *testing.T, m *Mesh)) {
	t.Helper()
	for _, mode := range modes {
		for _, version := range proxyVersions() {
			t.Run(mode.Name+"/istio-"+strings.TrimSuffix(version, ".0"), func(t *testing.T) {
				m := newMesh(t, mode, version, s.Deployed, clientsFor(s.Intended, s.Deployed), clientSelectors(s.Intended, s.Deployed))
				m.Intended = s.Intended
				fn(t, m)
			})
		}
	}
}

// routers: every gateway proxy of the mesh (Deployments injected with the gateway template).
func (m *Mesh) routers() []*Proxy {
	var out []*Proxy
	for _, d := range ofKind(m.Objects, "Deployment") {
		tmpl := path(d, "spec", "template")
		if strMap(path(tmpl, "metadata", "annotations"))["inject.istio.io/templates"] != "gateway" {
			continue
		}
		pods := m.podsOf(strMap(path(d, "spec", "selector", "matchLabels")), d.Namespace())
		if len(pods) > 0 {
			out = append(out, m.proxy("gateway Router", model.Router, pods[0]))
		}
	}
	return out
}

func (m *Mesh) allProxies() []*Proxy {
	out := m.routers()
	for _, c := range m.Clients {
		out = append(out, m.proxy("client sidecar", model.SidecarProxy, c.Pod))
	}
	if m.Mode.Ambient {
		for _, w := range readWaypoints(m.Objects) {
			out = append(out, m.waypoint(w))
		}
	}
	return out
}

// ---- the checks each scenario runs --------------------------------------------------------------------------------

// checkWildcards: every property of every WildcardEgressGateway of the intended manifests.
func checkWildcards(t *testing.T, m *Mesh, proxies []*Proxy) {
	ws, err := readWildcards(m.Intended)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		t.Run(w.Namespace+"/"+w.Name, func(t *testing.T) {
			g := m.gateway("gateway Router", w.GatewaySelector, w.Namespace)
			if fails := proxyVersionExcludes(w, m.Version); fails {
				property(t, "gateway Router", "proxyVersion not matching the proxy fails closed", func(t *testing.T) violations {
					return failsClosed(t, m, w, g)
				})
				return
			}
			property(t, "gateway Router", "sni forwarder only on our gateway (every patch applied there, none elsewhere)", func(t *testing.T) violations {
				return forwarderOnlyOnOwnGateway(w, proxies)
			})
			property(t, "gateway Router", "sni forwarder only behind own Gateway server's filter chain", func(t *testing.T) violations {
				return forwarderOnlyBehindOwnServer(w, g)
			})
			property(t, "gateway Router", "forwarder server_names = allow-list, off-list names match no chain", func(t *testing.T) violations {
				return forwarderServerNamesAreAllowList(w, g)
			})
			property(t, "gateway Router", "chains into the forwarder require Istio mTLS", func(t *testing.T) violations {
				return forwarderChainsRequireMTLS(w, g)
			})
			property(t, "gateway Router", "RBAC admits exactly allowFrom, on its port, for its own SNI", func(t *testing.T) violations {
				return forwarderRBACAdmitsExactlyAllowFrom(m, w, g)
			})
			for _, c := range m.Clients {
				c := c
				kind := "client sidecar (allowed namespace)"
				if !exportedTo(w.ExportTo, w.Namespace, c.Identity.Namespace) {
					kind = "client sidecar (namespace not allowed)"
				}
				t.Run("client "+c.String(), func(t *testing.T) {
					property(t, kind, "routes exactly the allow-list to the gateway subset over ISTIO_MUTUAL; off-list per outbound policy", func(t *testing.T) violations {
						return sidecarRoutesAllowList(t, m, w, m.clientProxy(c))
					})
				})
			}
		})
	}
}

// proxyVersionExcludes: the EnvoyFilter's match.proxy.proxyVersion (Istio matches it as a regular expression
// against the proxy's ISTIO_VERSION) does not match this proxy.
func proxyVersionExcludes(w *WildcardIntent, version string) bool {
	for _, p := range list(path(w.EnvoyFilter, "spec", "configPatches")) {
		if re := str(path(p, "match", "proxy", "proxyVersion")); re != "" {
			if ok, _ := regexp.MatchString(re, version); !ok {
				return true
			}
		}
	}
	return false
}

// failsClosed: a gateway the EnvoyFilter does not apply to has no forwarder, and its server's chain does not lead to
// any upstream that could reach an external host: the cluster its tcp_proxy names is not one the proxy has with
// endpoints outside the mesh.
func failsClosed(t *testing.T, m *Mesh, w *WildcardIntent, g *Proxy) violations {
	var v violations
	if found := hasForwarder(w, g); len(found) > 0 {
		v.add("%s: proxyVersion excludes %s, yet the proxy has %v", g.Name, m.Version, found)
	}
	for _, port := range w.PodPorts {
		l := listenerOnPort(g.Listeners, port)
		if l == nil {
			continue // no listener: connections are refused
		}
		fc := chainForSNI(l, w.GatewayHost)
		if fc == nil {
			continue
		}
		tp := tcpProxyOf(fc)
		if tp == nil {
			continue
		}
		c := findCluster(g.Clusters, tp.GetCluster())
		if c == nil {
			continue // Envoy closes connections to an unknown cluster
		}
		t.Logf("%s: unpatched chain %q leads to cluster %s (type %v)", g.Name, fc.GetName(), c.Name, c.GetType())
		if c.GetType().String() == "EDS" {
			n := 0
			for _, cla := range g.Endpoints {
				if cla.GetClusterName() == c.Name {
					for _, le := range cla.GetEndpoints() {
						n += len(le.GetLbEndpoints())
					}
				}
			}
			if n > 0 {
				v.add("%s: unpatched chain %q leads to EDS cluster %s with %d endpoints", g.Name, fc.GetName(), c.Name, n)
			} else {
				t.Logf("%s: EDS cluster %s has no endpoints: Envoy refuses the connection (no healthy upstream)", g.Name, c.Name)
			}
			continue
		}
		if c.GetType().String() != "ORIGINAL_DST" && c.Name != "BlackHoleCluster" {
			v.add("%s: unpatched chain %q leads to cluster %s of type %v, which may reach an external host", g.Name, fc.GetName(), c.Name, c.GetType())
		}
		if c.GetType().String() == "ORIGINAL_DST" {
			// The original destination of a connection to the gateway is the gateway pod itself.
			t.Logf("%s: ORIGINAL_DST at the gateway connects back to the gateway pod's own address, not outside", g.Name)
		}
	}
	return v
}

// checkOriginationRBAC: only the gateway RBAC property of every TlsOriginationEgress.
func checkOriginationRBAC(t *testing.T, m *Mesh) {
	os, err := readOriginations(m.Intended)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range os {
		t.Run(o.Namespace+"/"+o.Name, func(t *testing.T) {
			g := m.gateway("gateway Router", o.Selector, o.Namespace)
			property(t, "gateway Router (TLS origination)", "RBAC admits exactly allowFrom, on its port, for its own SNI", func(t *testing.T) violations {
				return originationRBAC(m, o, g)
			})
		})
	}
}

// checkOriginations: every property of every TlsOriginationEgress.
func checkOriginations(t *testing.T, m *Mesh) {
	os, err := readOriginations(m.Intended)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range os {
		t.Run(o.Namespace+"/"+o.Name, func(t *testing.T) {
			g := m.gateway("gateway Router", o.Selector, o.Namespace)
			property(t, "gateway Router (TLS origination)", "mTLS in, routed to the origination cluster, caller headers removed", func(t *testing.T) violations {
				return originationGatewayRoutes(t, m, o, g)
			})
			property(t, "gateway Router (TLS origination)", "origination clusters verify SNI and SAN = host", func(t *testing.T) violations {
				return originationClustersVerify(o, g)
			})
			property(t, "gateway Router (TLS origination)", "RBAC admits exactly allowFrom, on its port, for its own SNI", func(t *testing.T) violations {
				return originationRBAC(m, o, g)
			})
			var exportTo []string
			for _, vs := range ofKind(m.Intended, "VirtualService") {
				if vs.Namespace() == o.Namespace && contains(strList(path(vs, "spec", "gateways")), o.Namespace+"/"+o.Name) {
					exportTo = strList(path(vs, "spec", "exportTo"))
				}
			}
			for _, c := range m.Clients {
				c := c
				kind := "client sidecar (allowed namespace)"
				if !exportedTo(exportTo, o.Namespace, c.Identity.Namespace) {
					kind = "client sidecar (namespace not allowed)"
				}
				t.Run("client "+c.String(), func(t *testing.T) {
					property(t, kind, "sends origination hosts to the gateway subset over ISTIO_MUTUAL", func(t *testing.T) violations {
						return originationSidecar(t, m, o, m.clientProxy(c), exportTo)
					})
				})
			}
		})
	}
}

// checkWaypoints: every property of every ambient egress waypoint (ambient meshes only).
func checkWaypoints(t *testing.T, m *Mesh) {
	for _, w := range readWaypoints(m.Intended) {
		t.Run(w.Namespace+"/"+w.Name, func(t *testing.T) {
			p := m.waypoint(w)
			property(t, "waypoint", "RBAC admits exactly what the owning ServiceEntry's rules admit", func(t *testing.T) violations {
				return waypointRBAC(m, w, p)
			})
			property(t, "waypoint", "origination clusters verify SNI and SAN = host, to the targetPort", func(t *testing.T) violations {
				return waypointOrigination(w, p)
			})
		})
	}
}

// checkValid: every resource of every proxy passes protoc-gen-validate.
func checkValid(t *testing.T, proxies []*Proxy) {
	for _, p := range proxies {
		p := p
		t.Run(p.Kind+" "+p.Pod.Namespace+"/"+p.Pod.Name, func(t *testing.T) {
			property(t, p.Kind, "every listener, cluster, route and endpoint passes PGV ValidateAll (typed_configs unpacked)", func(t *testing.T) violations {
				v, un := resourcesValidate(p)
				if len(un) > 0 {
					t.Logf("%s: types without a protoc-gen-validate validator (not checked): %v", p.Name, un)
				}
				return v
			})
		})
	}
}

func (m *Mesh) hasAmbient() bool { return m.Mode.Ambient }

// ---- the tests ---------------------------------------------------------------------------------------------------

func hasWildcard(objs []Object) bool {
	ws, _ := readWildcards(objs)
	return len(ws) > 0
}

func hasOrigination(objs []Object) bool {
	os, _ := readOriginations(objs)
	return len(os) > 0
}

// TestWildcardGateway: every example with a WildcardEgressGateway, alone and all together, under every mesh
// configuration and proxy version.
func TestWildcardGateway(t *testing.T) {
	for _, s := range exampleScenarios(t) {
		if !hasWildcard(s.Intended) {
			continue
		}
		t.Run(s.Name, func(t *testing.T) {
			forEachMesh(t, s, meshModes, func(t *testing.T, m *Mesh) {
				checkWildcards(t, m, m.allProxies())
			})
		})
	}
}

// TestTLSOrigination: every example with a TlsOriginationEgress.
func TestTLSOrigination(t *testing.T) {
	for _, s := range exampleScenarios(t) {
		if !hasOrigination(s.Intended) {
			continue
		}
		t.Run(s.Name, func(t *testing.T) {
			forEachMesh(t, s, meshModes, checkOriginations)
		})
	}
}

// TestAmbientWaypoint: every example with an egress waypoint, in the ambient meshes.
func TestAmbientWaypoint(t *testing.T) {
	for _, s := range exampleScenarios(t) {
		if len(readWaypoints(s.Intended)) == 0 {
			continue
		}
		t.Run(s.Name, func(t *testing.T) {
			forEachMesh(t, s, []MeshMode{meshAmbient, meshAmbientAlloc}, checkWaypoints)
		})
	}
}

// TestEnvoyValidation: every resource every proxy of every example gets passes protoc-gen-validate.
func TestEnvoyValidation(t *testing.T) {
	for _, s := range exampleScenarios(t) {
		t.Run(s.Name, func(t *testing.T) {
			forEachMesh(t, s, meshModes, func(t *testing.T, m *Mesh) {
				checkValid(t, m.allProxies())
			})
		})
	}
}
