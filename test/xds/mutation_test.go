package xds

// Mutation tests: each property check must report a violation when the deployed manifests are broken on purpose
// (the expectations stay those of the synthesized manifests). A check that passes on broken config proves nothing.

import (
	"testing"
)

// mutated: a deep copy of objs with fn applied to the object (kind, namespace, name); drop removes it.
func mutated(t *testing.T, objs []Object, kind, namespace, name string, fn func(o Object) (keep bool)) []Object {
	t.Helper()
	var out []Object
	found := false
	for _, o := range objs {
		c := o.deepCopy()
		if c.Kind() == kind && c.Namespace() == namespace && c.Name() == name {
			found = true
			if !fn(c) {
				continue
			}
		}
		out = append(out, c)
	}
	if !found {
		t.Fatalf("mutation: no %s %s/%s in the manifests", kind, namespace, name)
	}
	return out
}

func drop(o Object) bool { return false }

// patches: the EnvoyFilter's configPatches.
func patches(o Object) []any { return list(path(o, "spec", "configPatches")) }

type mutation struct {
	name     string
	example  string
	fixtures []string
	mode     MeshMode
	mutate   func(t *testing.T, objs []Object) []Object
	check    func(t *testing.T, m *Mesh) violations
}

func wildcardOf(t *testing.T, m *Mesh) (*WildcardIntent, *Proxy) {
	ws, err := readWildcards(m.Intended)
	if err != nil || len(ws) == 0 {
		t.Fatalf("no WildcardEgressGateway in the intended manifests: %v", err)
	}
	return ws[0], m.gateway("gateway Router", ws[0].GatewaySelector, ws[0].Namespace)
}

func originationOf(t *testing.T, m *Mesh) (*OriginationIntent, *Proxy) {
	os, err := readOriginations(m.Intended)
	if err != nil || len(os) == 0 {
		t.Fatalf("no TlsOriginationEgress in the intended manifests: %v", err)
	}
	return os[0], m.gateway("gateway Router", os[0].Selector, os[0].Namespace)
}

const gatewayNS = "istio-egress"

func TestPropertiesCatchBreakage(t *testing.T) {
	sleep := Identity{"default", "sleep"}
	for _, mu := range []mutation{
		{
			name: "sni forwarder only behind own server: the df4579d MERGE without the SNI match, with another team's server", example: "wildcard-egress",
			fixtures: []string{"foreign-server.yaml"},
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "EnvoyFilter", gatewayNS, "wildcard-egress-sni-forwarder", func(o Object) bool {
					for _, p := range patches(o) {
						if fc, ok := path(p, "match", "listener", "filterChain").(map[string]any); ok {
							delete(fc, "sni")
						}
					}
					return true
				})
			},
			check: func(t *testing.T, m *Mesh) violations {
				w, g := wildcardOf(t, m)
				return forwarderOnlyBehindOwnServer(w, g)
			},
		},
		{
			name: "foreign server keeps its route: the MERGE without the SNI match", example: "wildcard-egress",
			fixtures: []string{"foreign-server.yaml"},
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "EnvoyFilter", gatewayNS, "wildcard-egress-sni-forwarder", func(o Object) bool {
					for _, p := range patches(o) {
						if fc, ok := path(p, "match", "listener", "filterChain").(map[string]any); ok {
							delete(fc, "sni")
						}
					}
					return true
				})
			},
			check: func(t *testing.T, m *Mesh) violations {
				w, g := wildcardOf(t, m)
				return foreignServersKeepTheirRoutes(m, w, g)
			},
		},
		{
			name: "RBAC admits exactly allowFrom: another team's admitted clients through the hijacked chain", example: "wildcard-egress",
			fixtures: []string{"foreign-server.yaml", "foreign-server-admitted.yaml"},
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "EnvoyFilter", gatewayNS, "wildcard-egress-sni-forwarder", func(o Object) bool {
					for _, p := range patches(o) {
						if fc, ok := path(p, "match", "listener", "filterChain").(map[string]any); ok {
							delete(fc, "sni")
						}
					}
					return true
				})
			},
			check: func(t *testing.T, m *Mesh) violations {
				w, g := wildcardOf(t, m)
				return forwarderRBACAdmitsExactlyAllowFrom(m, w, g)
			},
		},
		{
			name: "RBAC admits exactly allowFrom: the AuthorizationPolicy dropped", example: "wildcard-egress",
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "AuthorizationPolicy", gatewayNS, "wildcard-egress", drop)
			},
			check: func(t *testing.T, m *Mesh) violations {
				w, g := wildcardOf(t, m)
				return forwarderRBACAdmitsExactlyAllowFrom(m, w, g)
			},
		},
		{
			name: "RBAC admits exactly allowFrom: the connection.sni condition dropped", example: "wildcard-egress",
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "AuthorizationPolicy", gatewayNS, "wildcard-egress", func(o Object) bool {
					for _, r := range list(path(o, "spec", "rules")) {
						delete(r.(map[string]any), "when")
					}
					return true
				})
			},
			check: func(t *testing.T, m *Mesh) violations {
				w, g := wildcardOf(t, m)
				return forwarderRBACAdmitsExactlyAllowFrom(m, w, g)
			},
		},
		{
			name: "sni forwarder only on our gateway: workloadSelector dropped, with an unrelated gateway", example: "wildcard-egress",
			fixtures: []string{"unrelated-gateway.yaml"},
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "EnvoyFilter", gatewayNS, "wildcard-egress-sni-forwarder", func(o Object) bool {
					delete(o.Spec(), "workloadSelector")
					return true
				})
			},
			check: func(t *testing.T, m *Mesh) violations {
				w, _ := wildcardOf(t, m)
				return forwarderOnlyOnOwnGateway(w, m.allProxies())
			},
		},
		{
			name: "sni forwarder only on our gateway: a patch that matches nothing (wrong context)", example: "wildcard-egress",
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "EnvoyFilter", gatewayNS, "wildcard-egress-sni-forwarder", func(o Object) bool {
					path(patches(o)[0], "match").(map[string]any)["context"] = "SIDECAR_OUTBOUND"
					return true
				})
			},
			check: func(t *testing.T, m *Mesh) violations {
				w, _ := wildcardOf(t, m)
				return forwarderOnlyOnOwnGateway(w, m.allProxies())
			},
		},
		{
			name: "forwarder server_names = allow-list: a name added to the forwarder", example: "wildcard-egress",
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "EnvoyFilter", gatewayNS, "wildcard-egress-sni-forwarder", func(o Object) bool {
					for _, p := range patches(o) {
						for _, fc := range list(path(p, "patch", "value", "filter_chains")) {
							m := path(fc, "filter_chain_match").(map[string]any)
							m["server_names"] = append(list(m["server_names"]), "*.attacker.example")
						}
					}
					return true
				})
			},
			check: func(t *testing.T, m *Mesh) violations {
				w, g := wildcardOf(t, m)
				return forwarderServerNamesAreAllowList(w, g)
			},
		},
		{
			name: "chains into the forwarder require Istio mTLS: the Gateway server on a certificate of its own (MUTUAL)", example: "wildcard-egress",
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "Gateway", gatewayNS, "wildcard-egress", func(o Object) bool {
					for _, s := range list(path(o, "spec", "servers")) {
						s.(map[string]any)["tls"] = map[string]any{"mode": "MUTUAL", "credentialName": "team-certificate"}
					}
					return true
				})
			},
			check: func(t *testing.T, m *Mesh) violations {
				w, g := wildcardOf(t, m)
				return forwarderChainsRequireMTLS(w, g)
			},
		},
		{
			name: "sidecar routes the allow-list over ISTIO_MUTUAL: the subset's SNI changed", example: "wildcard-egress",
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "DestinationRule", gatewayNS, "egress-gateway-clients", func(o Object) bool {
					for _, s := range list(path(o, "spec", "subsets")) {
						for _, pl := range list(path(s, "trafficPolicy", "portLevelSettings")) {
							path(pl, "tls").(map[string]any)["sni"] = "other.example"
						}
					}
					return true
				})
			},
			check: func(t *testing.T, m *Mesh) violations {
				w, _ := wildcardOf(t, m)
				return sidecarRoutesAllowList(t, m, w, m.client(sleep))
			},
		},
		{
			name: "sidecar routes the allow-list: the mesh VirtualService dropped", example: "wildcard-egress",
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "VirtualService", gatewayNS, "wildcard-egress", drop)
			},
			check: func(t *testing.T, m *Mesh) violations {
				w, _ := wildcardOf(t, m)
				return sidecarRoutesAllowList(t, m, w, m.client(sleep))
			},
		},
		{
			name: "sidecar routes exactly the allow-list (REGISTRY_ONLY): the mesh VirtualService widened to *.example", example: "wildcard-egress",
			mode: meshRegistryOnly,
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "VirtualService", gatewayNS, "wildcard-egress", func(o Object) bool {
					for _, tl := range list(path(o, "spec", "tls")) {
						for _, mt := range list(path(tl, "match")) {
							mt.(map[string]any)["sniHosts"] = []any{"*.wikipedia.org", "*.example"}
						}
					}
					o.Spec()["hosts"] = []any{"*.wikipedia.org", "*.example"}
					return true
				})
			},
			check: func(t *testing.T, m *Mesh) violations {
				w, _ := wildcardOf(t, m)
				return sidecarRoutesAllowList(t, m, w, m.client(sleep))
			},
		},
		{
			name: "every resource passes PGV: an invalid DNS cache bound in the EnvoyFilter", example: "wildcard-egress",
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "EnvoyFilter", gatewayNS, "wildcard-egress-sni-forwarder", func(o Object) bool {
					dcc := path(patches(o)[0], "patch", "value", "cluster_type", "typed_config", "dns_cache_config").(map[string]any)
					dcc["name"] = "" // min_len 1
					return true
				})
			},
			check: func(t *testing.T, m *Mesh) violations {
				_, g := wildcardOf(t, m)
				v, _ := resourcesValidate(g)
				return v
			},
		},
		{
			name: "TLS origination routes and strips caller headers: header removal dropped", example: "tls-origination",
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "VirtualService", "istio-egress-tls", "tls-origination-edition-cnn-com", func(o Object) bool {
					for _, r := range list(path(o, "spec", "http")) {
						delete(r.(map[string]any), "headers")
					}
					return true
				})
			},
			check: func(t *testing.T, m *Mesh) violations {
				o, g := originationOf(t, m)
				return originationGatewayRoutes(t, m, o, g)
			},
		},
		{
			name: "TLS origination verifies SAN = host: subjectAltNames dropped", example: "tls-origination",
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "DestinationRule", "istio-egress-tls", "tls-origination-edition-cnn-com", func(o Object) bool {
					for _, pl := range list(path(o, "spec", "trafficPolicy", "portLevelSettings")) {
						delete(path(pl, "tls").(map[string]any), "subjectAltNames")
					}
					return true
				})
			},
			check: func(t *testing.T, m *Mesh) violations {
				o, g := originationOf(t, m)
				return originationClustersVerify(o, g)
			},
		},
		{
			name: "TLS origination RBAC admits exactly allowFrom: the AuthorizationPolicy dropped", example: "tls-origination",
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "AuthorizationPolicy", "istio-egress-tls", "tls-origination", drop)
			},
			check: func(t *testing.T, m *Mesh) violations { o, g := originationOf(t, m); return originationRBAC(m, o, g) },
		},
		{
			name: "TLS origination sidecar uses ISTIO_MUTUAL: the subset's TLS disabled", example: "tls-origination",
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "DestinationRule", "istio-egress-tls", "egress-gateway-clients", func(o Object) bool {
					for _, s := range list(path(o, "spec", "subsets")) {
						for _, pl := range list(path(s, "trafficPolicy", "portLevelSettings")) {
							pl.(map[string]any)["tls"] = map[string]any{"mode": "DISABLE"}
						}
					}
					return true
				})
			},
			check: func(t *testing.T, m *Mesh) violations {
				o, _ := originationOf(t, m)
				return originationSidecar(t, m, o, m.client(sleep), []string{"*"})
			},
		},
		{
			name: "waypoint RBAC: the admin AuthorizationPolicy dropped", example: "ambient-egress", mode: meshAmbient,
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "AuthorizationPolicy", "common-infrastructure", "httpbin-org-admin", drop)
			},
			check: func(t *testing.T, m *Mesh) violations {
				w := readWaypoints(m.Intended)[0]
				return waypointRBAC(m, w, m.waypoint(w))
			},
		},
		{
			name: "waypoint RBAC: the get-only rule widened to every method", example: "ambient-egress", mode: meshAmbient,
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "AuthorizationPolicy", "common-infrastructure", "httpbin-org-get-only", func(o Object) bool {
					for _, r := range list(path(o, "spec", "rules")) {
						delete(path(list(path(r, "to"))[0], "operation").(map[string]any), "methods")
					}
					return true
				})
			},
			check: func(t *testing.T, m *Mesh) violations {
				w := readWaypoints(m.Intended)[0]
				return waypointRBAC(m, w, m.waypoint(w))
			},
		},
		{
			name: "origination sidecar: the Sidecar of the selected pods dropped (they fall back to the namespace's, without the host)", example: "platform",
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "Sidecar", "payments", "egress-allow-list-app-settlement-609d0fac", drop)
			},
			check: func(t *testing.T, m *Mesh) violations {
				o := originationNamed(t, m, "egress-payments-http-aedeb27b-http-80")
				var v violations
				for _, c := range m.Clients {
					if c.Selector["app"] == "settlement" {
						v = append(v, originationSidecar(t, m, o, m.clientProxy(c), originationExportTo(m, o))...)
					}
				}
				return v
			},
		},
		{
			name: "origination RBAC: the DENY rules for methods and paths dropped", example: "platform",
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "AuthorizationPolicy", "platform-egress", "egress-payments-http-aedeb27b-http-80-http-rules", drop)
			},
			check: func(t *testing.T, m *Mesh) violations {
				o := originationNamed(t, m, "egress-payments-http-aedeb27b-http-80")
				return originationRBAC(m, o, m.gateway("gateway Router", o.Selector, o.Namespace))
			},
		},
		{
			name: "team isolation: team payments' gateway policy also admits team ml", example: "platform",
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "AuthorizationPolicy", "platform-egress", "egress-payments-tls-443", func(o Object) bool {
					src := path(list(path(list(path(o, "spec", "rules"))[0], "from"))[0], "source").(map[string]any)
					src["namespaces"] = append(list(src["namespaces"]), "ml")
					return true
				})
			},
			check: func(t *testing.T, m *Mesh) violations {
				mxs, err := loadMatrices("platform")
				if err != nil {
					t.Fatal(err)
				}
				return teamIsolation(m, mxs)
			},
		},
		{
			name: "team isolation at the waypoint: the crawler-only rule widened to the whole namespace", example: "platform", mode: meshAmbient,
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "AuthorizationPolicy", "platform-egress-ambient", "api-github-com-search-crawler-bbabfdb7", func(o Object) bool {
					for _, r := range list(path(o, "spec", "rules")) {
						for _, f := range list(path(r, "from")) {
							f.(map[string]any)["source"] = map[string]any{"namespaces": []any{"*"}}
						}
					}
					return true
				})
			},
			check: func(t *testing.T, m *Mesh) violations {
				mxs, err := loadMatrices("platform")
				if err != nil {
					t.Fatal(err)
				}
				return teamIsolation(m, mxs)
			},
		},
		{
			name: "waypoint origination verifies SAN = host: subjectAltNames dropped", example: "ambient-egress", mode: meshAmbient,
			mutate: func(t *testing.T, objs []Object) []Object {
				return mutated(t, objs, "DestinationRule", "common-infrastructure", "httpbin-org-tls", func(o Object) bool {
					delete(path(o, "spec", "trafficPolicy", "tls").(map[string]any), "subjectAltNames")
					return true
				})
			},
			check: func(t *testing.T, m *Mesh) violations {
				w := readWaypoints(m.Intended)[0]
				return waypointOrigination(w, m.waypoint(w))
			},
		},
	} {
		mu := mu
		t.Run(mu.name, func(t *testing.T) {
			intended := loadOrFatal(t)(loadExample(mu.example))
			deployed := intended
			for _, f := range mu.fixtures {
				deployed = append(append([]Object{}, deployed...), loadOrFatal(t)(loadFixture(f))...)
			}
			mode := mu.mode
			if mode.Name == "" {
				mode = meshDefaults
			}
			// The check holds on the intact manifests ...
			intact := newMesh(t, mode, proxyVersions()[0], deployed, clientsFor(intended, deployed), clientSelectors(intended, deployed))
			intact.Intended = intended
			if v := mu.check(t, intact); len(v) > 0 {
				t.Fatalf("the check fails on the intact manifests already: %v", v)
			}
			// ... and reports the broken ones.
			broken := newMesh(t, mode, proxyVersions()[0], mu.mutate(t, deployed), clientsFor(intended, deployed), clientSelectors(intended, deployed))
			broken.Intended = intended
			v := mu.check(t, broken)
			record("mutation tests", "each property check reports its property broken on purpose", len(v) > 0)
			if len(v) == 0 {
				t.Fatalf("the property check passed on manifests broken on purpose")
			}
			t.Logf("reported as expected: %s", v[0])
		})
	}
}

func originationNamed(t *testing.T, m *Mesh, name string) *OriginationIntent {
	os, err := readOriginations(m.Intended)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range os {
		if o.Name == name {
			return o
		}
	}
	t.Fatalf("no TlsOriginationEgress %s in the intended manifests", name)
	return nil
}

// originationExportTo: the exportTo of the VirtualService bound to the origination's Gateway (as checkOriginations).
func originationExportTo(m *Mesh, o *OriginationIntent) []string {
	var exportTo []string
	for _, vs := range ofKind(m.Intended, "VirtualService") {
		if vs.Namespace() == o.Namespace && contains(strList(path(vs, "spec", "gateways")), o.Namespace+"/"+o.Name) {
			exportTo = strList(path(vs, "spec", "exportTo"))
		}
	}
	return exportTo
}
