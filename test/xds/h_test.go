package xds

// The security review's xDS-level findings H1, H2 and H3 (reviews/security-review-2026-12.md), each with its
// attacker's input. They hold once the fixes of branches `amb` (H1, H2 ambient) and `sec` (H2 sidecar, H3) are
// merged; run them on another checkout's output with XDS_MANIFESTS (see CONTRIBUTING, "xDS suite").

import (
	"testing"
)

// scenarioApp loads a scenario app synthesized by scripts/synth-xds-scenarios.ts, or reports that the library
// refused to synthesize it (then the attack's input cannot be produced, which is what the fix may do).
func scenarioApp(t *testing.T, name string) ([]Object, bool) {
	t.Helper()
	if msg := synthRefusal(name); msg != "" {
		t.Logf("the library refuses the scenario at synth time, so its manifests cannot exist: %s", msg)
		record("scenario refused at synth", name, true)
		return nil, false
	}
	objs, err := loadScenarioApp(name)
	if err != nil {
		t.Fatalf("%v (run scripts/synth-xds-scenarios.ts, or `npx projen test:xds`)", err)
	}
	return objs, true
}

// TestH1: ambient wildcard TLS host (`*.example.com`, istiod ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS=true):
// a team-a pod that connects to a *.example.com address with SNI exfil.attacker.example must be refused by the
// waypoint; only SNIs under *.example.com are forwarded.
func TestH1(t *testing.T) {
	objs, ok := scenarioApp(t, "h1-ambient-wildcard-tls")
	if !ok {
		return
	}
	s := Scenario{Name: "h1", Intended: objs, Deployed: objs}
	modes := []MeshMode{
		{Name: "ambient+wildcard-tls", Ambient: true, WildcardTLS: true},
		{Name: "ambient+ip-autoallocation+wildcard-tls", Ambient: true, AutoAllocate: true, WildcardTLS: true},
	}
	t.Run("waypoint_forwards_only_SNIs_under_the_wildcard", func(t *testing.T) {
		forEachMesh(t, s, modes, checkWaypoints)
	})
}

// TestH2: overlapping hosts with different rules. The exact host's stricter rule must govern its name wherever the
// request arrives: at the waypoint through the wildcard's VIP (Host header), and in sidecar mode through the
// wildcard gateway whose forwarder's server_names cover the exact host.
func TestH2(t *testing.T) {
	t.Run("ambient_wildcard_rule_does_not_admit_the_exact_hosts_name", func(t *testing.T) {
		objs, ok := scenarioApp(t, "h2-ambient-overlap")
		if !ok {
			return
		}
		s := Scenario{Name: "h2-ambient", Intended: objs, Deployed: objs}
		forEachMesh(t, s, []MeshMode{meshAmbient, meshAmbientAlloc}, checkWaypoints)
	})
	t.Run("sidecar_wildcard_gateway_does_not_forward_the_exact_hosts_name", func(t *testing.T) {
		objs, ok := scenarioApp(t, "h2-sidecar-overlap")
		if !ok {
			return
		}
		s := Scenario{Name: "h2-sidecar", Intended: objs, Deployed: objs}
		forEachMesh(t, s, []MeshMode{meshDefaults, meshRegistryOnly}, func(t *testing.T, m *Mesh) {
			checkWildcards(t, m, m.allProxies())
			property(t, "gateway Router", "a name listed by a stricter construct reaches no other construct's forwarder for identities it refuses (H2)", func(t *testing.T) violations {
				return overlappingHostsKeepTheStricterRule(t, m)
			})
		})
	})
}

// Property (H2, sidecar mode): for every host a WildcardEgressGateway lists, an identity that construct's policy
// refuses is admitted by no other construct's forwarder whose server_names cover the host.
func overlappingHostsKeepTheStricterRule(t *testing.T, m *Mesh) violations {
	var v violations
	ws, err := readWildcards(m.Intended)
	if err != nil {
		t.Fatal(err)
	}
	for _, owner := range ws {
		for _, host := range owner.AllowList {
			for _, other := range ws {
				if other == owner {
					continue
				}
				covers := false
				for _, h := range other.AllowList {
					if sniMatches(h, host) && h != host {
						covers = true
					}
				}
				if !covers {
					continue
				}
				g := m.gateway("gateway Router", other.GatewaySelector, other.Namespace)
				for _, name := range other.AddedListeners {
					l := findListener(g.Listeners, name)
					if l == nil || chainForSNI(l, host) == nil {
						continue // the forwarder does not forward the name
					}
					for fc, gl := range forwarderChains(other, g) {
						for _, id := range identitiesToTry(m) {
							if admittedBy(owner.Sources, id) {
								continue
							}
							got, err := admitted(fc, Request{Principal: id.SPIFFE(), Port: gl.GetAddress().GetSocketAddress().GetPortValue(), SNI: other.GatewayHost})
							if err != nil {
								v.add("%v", err)
								continue
							}
							if got {
								v.add("%s: %s is refused %s by %s/%s's rules, but %s/%s's forwarder (server_names %v) admits it and forwards SNI %s",
									g.Name, id, host, owner.Namespace, owner.Name, other.Namespace, other.Name, other.AllowList, host)
							}
						}
					}
				}
			}
		}
	}
	return v
}

// TestH3: TlsOriginationEgress with a tenant's selector-less HTTPS server on the origination port: the gateway's
// RBAC must admit the allowed identities only for the origination hosts' own SNI, so the foreign server admits none.
func TestH3(t *testing.T) {
	s := withFixtures(t, exampleScenario(t, "tls-origination"), "tls-origination", "h3-origination-hijack.yaml")
	t.Run("foreign_server_on_the_origination_port_admits_none_of_allowFrom", func(t *testing.T) {
		// Only the RBAC property: the fixture's DestinationRule for the gateway host in `default` replaces ours for
		// the tenant's own namespace (Istio uses the client namespace's rule first), which breaks only that tenant.
		forEachMesh(t, s, []MeshMode{meshDefaults, meshRegistryOnly}, checkOriginationRBAC)
	})
}
