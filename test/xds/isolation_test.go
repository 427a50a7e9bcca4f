package xds

// Per-team isolation (issue #14): for the examples that write an egress matrix (EgressAllowList:
// examples/<name>/dist/*.egress-matrix.json, the auditor's view of what each team declared), no identity reaches a
// host at a gateway or waypoint that the matrix does not grant it there: team B's identity reaches no team-A-only
// host, and a host granted to one service account is not reached by the rest of its namespace. The expectation is
// the matrix (the declaration), the outcome is the RBAC istiod generated (evaluated on the filter chains), so a
// policy that admits more than the declaration fails here even if it is internally consistent.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// MatrixRow: one row of an egress matrix (the fields the property uses).
type MatrixRow struct {
	Namespace string   `json:"namespace"`
	Identity  string   `json:"identity"` // "namespace <ns>" or "service account <ns>/<sa>"
	Remote    string   `json:"remote"`
	Ports     []uint32 `json:"ports"`
	Path      string   `json:"path"` // "gateway <ns>/<deployment>", "waypoint <ns>/<name>", "direct (NetworkPolicy)", ...
}

// Matrix: one egress matrix.
type Matrix struct {
	Namespaces []string    `json:"namespaces"`
	Rows       []MatrixRow `json:"rows"`
}

func loadMatrices(example string) ([]Matrix, error) {
	files, err := filepath.Glob(filepath.Join(manifestRoot(), "examples", example, "dist", "*.egress-matrix.json"))
	if err != nil {
		return nil, err
	}
	var out []Matrix
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var mx Matrix
		if err := json.Unmarshal(b, &mx); err != nil {
			return nil, fmt.Errorf("%s: %v", f, err)
		}
		out = append(out, mx)
	}
	return out, nil
}

// enforcement: where a row is enforced ("gateway" or "waypoint") and the ns/name of that workload.
func (r MatrixRow) enforcement() (kind, ref string) {
	parts := strings.SplitN(r.Path, " ", 2)
	if len(parts) == 2 && (parts[0] == "gateway" || parts[0] == "waypoint") {
		return parts[0], parts[1]
	}
	return "", ""
}

// grants: whether the row grants the identity.
func (r MatrixRow) grants(id Identity) (bool, error) {
	switch {
	case strings.HasPrefix(r.Identity, "namespace "):
		return id.Namespace == strings.TrimPrefix(r.Identity, "namespace "), nil
	case strings.HasPrefix(r.Identity, "service account "):
		return id.String() == strings.TrimPrefix(r.Identity, "service account "), nil
	}
	return false, fmt.Errorf("matrix row %s -> %s: identity %q is not understood by the harness", r.Namespace, r.Remote, r.Identity)
}

// entitled: whether any row enforced at (kind, ref) for remote grants the identity.
func entitled(rows []MatrixRow, kind, ref, remote string, id Identity) (bool, error) {
	for _, r := range rows {
		k, rf := r.enforcement()
		if k != kind || rf != ref || r.Remote != remote {
			continue
		}
		ok, err := r.grants(id)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// isolationIdentities: every identity the mesh's policies name, the clients and the outsider, plus one invented
// workload of every team namespace of the matrices.
func isolationIdentities(m *Mesh, mxs []Matrix) []Identity {
	out := identitiesToTry(m)
	seen := map[Identity]bool{}
	for _, id := range out {
		seen[id] = true
	}
	for _, mx := range mxs {
		for _, ns := range mx.Namespaces {
			id := Identity{ns, "any-workload"}
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

// Property: at every gateway and waypoint the matrices name, an identity the matrix does not grant a host there is
// refused for that host, on every chain that serves it (SNI forwarder servers, origination servers, waypoint
// chains), for every method and path the policies name.
func teamIsolation(m *Mesh, mxs []Matrix) violations {
	var v violations
	var rows []MatrixRow
	for _, mx := range mxs {
		rows = append(rows, mx.Rows...)
	}
	ids := isolationIdentities(m, mxs)
	checked := 0
	refuse := func(where, kind, ref, host string, try func(id Identity) (bool, string, error)) {
		for _, id := range ids {
			ok, err := entitled(rows, kind, ref, host, id)
			if err != nil {
				v.add("%v", err)
				return
			}
			if ok {
				continue
			}
			checked++
			got, what, err := try(id)
			if err != nil {
				v.add("%s: %v", where, err)
				return
			}
			if got {
				v.add("%s: %s reaches %s (%s), which the egress matrix does not grant it at %s %s", where, id, host, what, kind, ref)
			}
		}
	}
	// Only the gateways and waypoints the matrices name (other constructs in the same mesh are not theirs).
	remotes, refs := map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		if k, ref := r.enforcement(); k != "" {
			remotes[r.Remote] = true
			refs[k+" "+ref] = true
		}
	}
	// Gateways: SNI forwarder servers.
	ws, err := readWildcards(m.Intended)
	if err != nil {
		return violations{err.Error()}
	}
	for _, w := range ws {
		_, deploy := gatewayWorkload(m.Intended, w.GatewaySelector)
		ref := w.Namespace + "/" + deploy.Name()
		if !refs["gateway "+ref] {
			continue
		}
		g := m.gateway("gateway Router", w.GatewaySelector, w.Namespace)
		for _, h := range w.AllowList {
			if !remotes[h] {
				continue
			}
			for fc, l := range forwarderChains(w, g) {
				fc, l := fc, l
				port := l.GetAddress().GetSocketAddress().GetPortValue()
				sni := w.GatewayHost
				if names := fc.GetFilterChainMatch().GetServerNames(); len(names) > 0 {
					sni = names[0]
				}
				refuse(g.Name+" listener "+l.Name, "gateway", ref, h, func(id Identity) (bool, string, error) {
					got, err := admitted(fc, Request{Principal: id.SPIFFE(), Port: port, SNI: sni})
					return got, "SNI forwarder server " + sni, err
				})
			}
		}
	}
	// Gateways: TLS origination servers.
	os, err := readOriginations(m.Intended)
	if err != nil {
		return violations{err.Error()}
	}
	for _, o := range os {
		_, deploy := gatewayWorkload(m.Intended, o.Selector)
		ref := o.Namespace + "/" + deploy.Name()
		if !refs["gateway "+ref] {
			continue
		}
		g := m.gateway("gateway Router", o.Selector, o.Namespace)
		methods, paths := requestVariants(workloadPolicies(m.Intended, g.Pod.Namespace, g.Pod.Labels))
		for _, h := range o.Hosts {
			if !remotes[h] {
				continue
			}
			for _, port := range o.PodPorts {
				l := listenerOnPort(g.Listeners, port)
				if l == nil {
					continue
				}
				fc := chainForSNI(l, h)
				if fc == nil {
					continue
				}
				refuse(g.Name+" listener "+l.Name, "gateway", ref, h, func(id Identity) (bool, string, error) {
					for _, method := range methods {
						for _, pth := range paths {
							got, err := admitted(fc, Request{Principal: id.SPIFFE(), Port: port, SNI: h, Method: method, Path: pth, Host: h})
							if err != nil || got {
								return got, "origination " + method + " " + pth, err
							}
						}
					}
					return false, "", nil
				})
			}
		}
	}
	// Waypoints.
	if m.Mode.Ambient {
		for _, w := range readWaypoints(m.Intended) {
			ref := w.Namespace + "/" + w.Name
			if !refs["waypoint "+ref] {
				continue
			}
			p := m.waypoint(w)
			for _, s := range w.Services {
				for _, port := range s.Ports {
					for _, h := range s.Hosts {
						if !remotes[h] {
							continue
						}
						fc, proto := waypointChain(p, port.Number, h)
						if fc == nil {
							v.add("%s: no chain for %s port %d", p.Name, h, port.Number)
							continue
						}
						paths := pathsToTry(s)
						refuse(p.Name+" chain "+fc.GetName(), "waypoint", ref, h, func(id Identity) (bool, string, error) {
							for _, name := range samplesFor(h) {
								if proto != "http" {
									got, err := admitted(fc, Request{Principal: id.SPIFFE(), Port: port.Number, SNI: name})
									if err != nil || got {
										return got, "TLS/TCP as " + name, err
									}
									continue
								}
								for _, method := range []string{"GET", "POST"} {
									for _, pth := range paths {
										got, err := admitted(fc, Request{Principal: id.SPIFFE(), Port: port.Number, SNI: name, Method: method, Path: pth, Host: name})
										if err != nil || got {
											return got, method + " " + pth + " as " + name, err
										}
									}
								}
							}
							return false, "", nil
						})
					}
				}
			}
		}
	}
	if checked == 0 {
		v.add("no (identity, host) pair the matrices deny was checked at any gateway or waypoint: nothing proven")
	}
	return v
}

// TestTeamIsolation: every example with an egress matrix, and all of them in one mesh, under every mesh
// configuration and proxy version.
func TestTeamIsolation(t *testing.T) {
	names, err := exampleNames()
	if err != nil {
		t.Fatal(err)
	}
	var all []Matrix
	var withMatrix []string
	for _, n := range names {
		mxs, err := loadMatrices(n)
		if err != nil {
			t.Fatal(err)
		}
		if len(mxs) > 0 {
			withMatrix = append(withMatrix, n)
			all = append(all, mxs...)
		}
	}
	sort.Strings(withMatrix)
	for _, s := range exampleScenarios(t) {
		var mxs []Matrix
		if s.Name == "all-examples-in-one-mesh" {
			mxs = all
		} else if contains(withMatrix, s.Name) {
			mxs, _ = loadMatrices(s.Name)
		} else {
			continue
		}
		s := s
		t.Run(s.Name, func(t *testing.T) {
			forEachMesh(t, s, meshModes, func(t *testing.T, m *Mesh) {
				property(t, "gateway Router and waypoint (egress matrix)", "team isolation: no identity reaches a host the egress matrix does not grant it there", func(t *testing.T) violations {
					return teamIsolation(m, mxs)
				})
			})
		})
	}
}
