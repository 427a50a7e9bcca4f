package xds

// Scenarios beyond the examples: foreign objects an attacker or another team could create (fixtures/), the
// security review's X1, and proxyVersion.

import (
	"fmt"
	"testing"
)

// foreignServers: Gateway servers istiod gets that the library did not synthesize, with the destination their own
// route sends them to (read from the foreign VirtualService).
type foreignServer struct {
	Gateway     Object
	Host        string
	Port        uint32
	Destination string // the cluster their own route names
}

func foreignServers(m *Mesh) []foreignServer {
	var out []foreignServer
	for _, gw := range ofKind(m.Objects, "Gateway") {
		if find(m.Intended, "Gateway", gw.Namespace(), gw.Name()) != nil {
			continue
		}
		for _, s := range list(path(gw, "spec", "servers")) {
			for _, h := range strList(path(s, "hosts")) {
				fs := foreignServer{Gateway: gw, Host: h[len(gw.Namespace())+1:], Port: num(path(s, "port", "number"))}
				if h[:2] == "./" {
					fs.Host = h[2:]
				}
				for _, vs := range ofKind(m.Objects, "VirtualService") {
					for _, g := range strList(path(vs, "spec", "gateways")) {
						if g == gw.Namespace()+"/"+gw.Name() || (g == gw.Name() && vs.Namespace() == gw.Namespace()) {
							for _, r := range list(path(vs, "spec", "tcp")) {
								d := path(list(path(r, "route"))[0], "destination")
								fs.Destination = fmt.Sprintf("outbound|%d||%s", num(path(d, "port", "number")), str(path(d, "host")))
							}
						}
					}
				}
				out = append(out, fs)
			}
		}
	}
	return out
}

// Property (X1): a foreign Gateway server on our gateway's pods and port keeps its own route: its filter chain's
// tcp_proxy goes where its VirtualService says, not into our SNI forwarder.
func foreignServersKeepTheirRoutes(m *Mesh, w *WildcardIntent, g *Proxy) violations {
	var v violations
	for _, fs := range foreignServers(m) {
		if fs.Destination == "" {
			continue
		}
		for i, gp := range w.GatewayPorts {
			if gp != fs.Port {
				continue
			}
			l := listenerOnPort(g.Listeners, w.PodPorts[i])
			if l == nil {
				continue
			}
			fc := chainForSNI(l, fs.Host)
			if fc == nil || fc.GetFilterChainMatch() == nil || !contains(fc.GetFilterChainMatch().GetServerNames(), fs.Host) {
				v.add("%s: no filter chain for the foreign server %s/%s (SNI %s) on %s", g.Name, fs.Gateway.Namespace(), fs.Gateway.Name(), fs.Host, l.Name)
				continue
			}
			tp := tcpProxyOf(fc)
			if tp.GetCluster() != fs.Destination {
				v.add("%s: %s: the foreign server %s/%s (SNI %s) is hijacked: its tcp_proxy goes to %q, its own route says %s",
					g.Name, l.Name, fs.Gateway.Namespace(), fs.Gateway.Name(), fs.Host, tp.GetCluster(), fs.Destination)
			}
		}
	}
	return v
}

func checkForeignServers(t *testing.T, m *Mesh) {
	ws, err := readWildcards(m.Intended)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		t.Run(w.Namespace+"/"+w.Name+"/foreign servers", func(t *testing.T) {
			g := m.gateway("gateway Router", w.GatewaySelector, w.Namespace)
			property(t, "gateway Router", "another team's server on our pods and port keeps its own route (X1)", func(t *testing.T) violations {
				return foreignServersKeepTheirRoutes(m, w, g)
			})
		})
	}
}

// TestX1: security review X1 (found by this suite's first run at df4579d): another team's Gateway server on our
// wildcard gateway's pods and port must not be rewritten into the SNI forwarder, and its clients (admitted to their
// own server by their own AuthorizationPolicy) must reach no forwarder.
func TestX1(t *testing.T) {
	base := exampleScenario(t, "wildcard-egress")
	for _, s := range []Scenario{
		withFixtures(t, base, "another_teams_server_on_the_same_port_is_not_hijacked", "foreign-server.yaml"),
		withFixtures(t, base, "another_teams_admitted_clients_reach_no_forwarder", "foreign-server.yaml", "foreign-server-admitted.yaml"),
	} {
		t.Run(s.Name, func(t *testing.T) {
			forEachMesh(t, s, meshModes, func(t *testing.T, m *Mesh) {
				checkForeignServers(t, m)
				checkWildcards(t, m, m.allProxies())
			})
		})
	}
}

// TestForeignObjects: objects a tenant or another team could create beside ours.
func TestForeignObjects(t *testing.T) {
	t.Run("selectorless_gateway_in_a_tenant_namespace", func(t *testing.T) {
		for _, ex := range []string{"wildcard-egress", "tls-origination"} {
			s := withFixtures(t, exampleScenario(t, ex), ex, "selectorless-gateway.yaml")
			t.Run(s.Name, func(t *testing.T) {
				forEachMesh(t, s, meshModes, func(t *testing.T, m *Mesh) {
					checkForeignServers(t, m)
					checkWildcards(t, m, m.allProxies())
					checkOriginations(t, m)
				})
			})
		}
	})
	t.Run("unrelated_gateway_in_the_same_namespace_and_pod_port", func(t *testing.T) {
		s := withFixtures(t, exampleScenario(t, "wildcard-egress"), "wildcard-egress", "unrelated-gateway.yaml")
		forEachMesh(t, s, meshModes, func(t *testing.T, m *Mesh) {
			proxies := m.allProxies()
			checkWildcards(t, m, proxies)
			ws, _ := readWildcards(m.Intended)
			for _, p := range m.routers() {
				if isOwnGateway(ws[0], p) {
					continue
				}
				p := p
				property(t, "unrelated gateway Router", "untouched by our EnvoyFilter: its server keeps its own route", func(t *testing.T) violations {
					var v violations
					if found := hasForwarder(ws[0], p); len(found) > 0 {
						v.add("%s has %v", p.Name, found)
					}
					for fc, l := range forwarderChains(ws[0], p) {
						v.add("%s: %s chain %q leads into our forwarder", p.Name, l.Name, fc.GetName())
					}
					l := listenerOnPort(p.Listeners, 8443)
					if l == nil {
						v.add("%s: no listener on its pod port 8443", p.Name)
						return v
					}
					if tp := tcpProxyOf(chainForSNI(l, "other-gateway.istio-egress.svc.cluster.local")); tp.GetCluster() != "outbound|443||upstream.other.example" {
						v.add("%s: its server's tcp_proxy goes to %q, its route says outbound|443||upstream.other.example", p.Name, tp.GetCluster())
					}
					return v
				})
			}
			checkValid(t, proxies)
		})
	})
}

// TestProxyVersion: with proxyVersion set, a proxy of the version gets the forwarder; a proxy of another version
// gets none, and its listener leads nowhere outside (fails closed).
func TestProxyVersion(t *testing.T) {
	objs, err := loadScenarioApp("proxy-version")
	if err != nil {
		t.Fatalf("%v (run scripts/synth-xds-scenarios.ts, or `npx projen test:xds`)", err)
	}
	s := Scenario{Name: "proxy-version", Intended: objs, Deployed: objs}
	forEachMesh(t, s, []MeshMode{meshDefaults, meshRegistryOnly}, func(t *testing.T, m *Mesh) {
		checkWildcards(t, m, m.allProxies())
	})
}
