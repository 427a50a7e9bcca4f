/**
 * The checks of an allow-list that need the namespaces' modes (the entries are valid on their own): reserved
 * namespaces, what each mode can realise, Sidecar selectors that could select one pod, and overlapping hosts.
 */
import { AllowListContext, contains } from './context';
import { AllowRule, HostRule, RemoteGenerated, RemoteProtocol } from './entry';
import { addToList, labelText } from '../core/collections';
import { DataplaneMode } from '../core/dataplane-mode';
import { fieldError } from '../core/errors';
import { properSuffixes } from '../core/host';
import { reservedNamespaceReason } from '../core/namespaces';

/** Refuses what the modes cannot realise, each error naming the entries. @internal */
export function checkAllowList(ctx: AllowListContext, namespaces: string[], rules: AllowRule[]): void {
  checkModes(ctx, namespaces, rules);
  checkSelectors(ctx, rules);
  checkOverlaps(ctx, rules.filter((r): r is HostRule => r.kind === 'host'));
}

function checkModes(ctx: AllowListContext, namespaces: string[], rules: AllowRule[]): void {
  for (const ns of namespaces) {
    const reason = reservedNamespaceReason(ns, ctx.mesh);
    if (reason !== undefined && ns !== 'default') {
      fieldError(ctx.scope, 'spec', `namespace "${ns}" cannot be a team namespace: ${reason}`);
    }
  }
  for (const r of rules) {
    const sidecar = ctx.modeOf(r.namespace) === DataplaneMode.SIDECAR;
    const fail = (field: string, message: string) => fieldError(ctx.scope, `${r.where}: ${field}`, message);
    if (r.kind === 'host') {
      if (sidecar && r.protocol === RemoteProtocol.HTTP && r.origination === undefined) {
        fail('remoteProtocol', `plain HTTP to "${r.host.name}" would leave the cluster unencrypted, and the sidecar-mode gateway routes HTTP only to originate TLS; add tlsOrigination, use TLS, or run namespace "${r.namespace}" in ambient mode`);
      }
      if (sidecar && r.origination !== undefined && r.ports.length > 1) {
        fail('ports', `an originated host is called on one plain-HTTP port in sidecar mode; give one port (e.g. 80), not ${r.ports.join(', ')}`);
      }
    } else {
      if (r.generated === RemoteGenerated.KUBE_API && (ctx.options.kubeApiCidrs ?? []).length === 0) {
        fail('remoteGenerated', 'KubeAPI needs the API server\'s endpoint CIDRs, which are not known at synth time; pass kubeApiCidrs (e.g. ["10.0.0.1/32"]) to the EgressAllowList');
      }
      if (sidecar && r.protocol === RemoteProtocol.TCP && r.ports.length === 0 && r.generated !== RemoteGenerated.ANYWHERE) {
        fail('ports', 'in sidecar mode a REGISTRY_ONLY sidecar passes TCP only to declared ports; give port or ports');
      }
    }
  }
}

/** Selectors of one namespace must not select the same pod unless one contains the other (Istio picks one Sidecar). */
function checkSelectors(ctx: AllowListContext, rules: AllowRule[]): void {
  const byNs = new Map<string, Map<string, AllowRule>>();
  for (const r of rules) {
    if (r.selector === undefined) {
      continue;
    }
    const m = byNs.get(r.namespace) ?? new Map<string, AllowRule>();
    byNs.set(r.namespace, m);
    const key = labelText(r.selector);
    if (!m.has(key)) {
      m.set(key, r);
    }
  }
  for (const [ns, m] of byNs) {
    if (ctx.modeOf(ns) !== DataplaneMode.SIDECAR) {
      continue;
    }
    const list = [...m.values()];
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i].selector!;
        const b = list[j].selector!;
        const disjoint = Object.keys(a).some((k) => b[k] !== undefined && b[k] !== a[k]);
        if (!disjoint && !contains(a, b) && !contains(b, a)) {
          fieldError(
            ctx.scope,
            `${list[j].where}: selector`,
            `${labelText(b)} and ${labelText(a)} (${list[i].where}) can select the same pod of namespace "${ns}", which would match two Istio Sidecars (Istio applies one, unpredictably); ` +
              'select disjoint pods (the same label key with different values), or make one selector contain the other',
          );
        }
      }
    }
  }
}

/** Overlapping hosts (a wildcard covering another host) on a common port, seen by a common namespace. */
function checkOverlaps(ctx: AllowListContext, rules: HostRule[]): void {
  const byName = new Map<string, HostRule[]>();
  for (const r of rules) {
    addToList(byName, r.host.name, r);
  }
  for (const [name, list] of byName) {
    const sidecar = list.find((r) => ctx.modeOf(r.namespace) === DataplaneMode.SIDECAR);
    const ambient = list.find((r) => ctx.modeOf(r.namespace) === DataplaneMode.AMBIENT);
    if (sidecar && ambient) {
      fieldError(
        ctx.scope,
        `${ambient.where}: remoteHost`,
        `host "${name}" is allowed in ambient namespace "${ambient.namespace}" and in sidecar namespace "${sidecar.namespace}" (${sidecar.where}); the waypoint's ServiceEntry is seen by every namespace and would clash with the gateway's. ` +
          'Run both namespaces in one mode for this host',
      );
    }
  }
  for (const [name, list] of byName) {
    const host = list[0].host;
    for (const suffix of properSuffixes(host.domain)) {
      const wide = byName.get(`*.${suffix}`);
      if (wide === undefined) {
        continue;
      }
      for (const narrow of list) {
        for (const w of wide) {
          const common = narrow.ports.find((p) => w.ports.includes(p));
          if (common === undefined) {
            continue;
          }
          const bothSidecar = ctx.modeOf(narrow.namespace) === DataplaneMode.SIDECAR && ctx.modeOf(w.namespace) === DataplaneMode.SIDECAR;
          const seenTogether =
            narrow.namespace === w.namespace || list.some((x) => x.namespace === w.namespace) || wide.some((x) => x.namespace === narrow.namespace);
          if (bothSidecar && !seenTogether) {
            // sidecar routes are exported to their own namespaces only: no namespace sees both
            continue;
          }
          fieldError(
            ctx.scope,
            `${narrow.where}: remoteHost`,
            `host "${name}" (namespace "${narrow.namespace}") overlaps "${w.host.name}" of ${w.where} (namespace "${w.namespace}") on port ${common}, and a namespace sees both: ` +
              `traffic for "${name}" could pass under the rules of "${w.host.name}". Drop "${name}" if "${w.host.name}" already covers it, or make the hosts disjoint`,
          );
        }
      }
    }
  }
}
