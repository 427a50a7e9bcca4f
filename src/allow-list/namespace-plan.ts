/**
 * The objects of an allow-list in each team namespace: an `EgressNetworkPolicy` for every pod and one per selector
 * (the gateway or waypoint paths and the ranges of its entries), in sidecar mode a `Sidecar` per selector (only the
 * hosts of its entries, REGISTRY_ONLY) and a ServiceEntry per TCP range; and the namespace's rows of the matrix.
 */
import { ApiObject } from 'cdk8s';
import * as plus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { AllowListContext, atEntries, atWhere, cmp, contains, shortHash } from './context';
import { AllowRule, NetworkRule, RemoteGenerated, RemoteProtocol } from './entry';
import { rowOf } from './matrix-rows';
import { GatewayPlan, SidecarPlan } from './sidecar-plan';
import * as net from '../../imports/networking.istio.io';
import { IEgressWaypoint } from '../ambient/egress-waypoint';
import { addToList, labelText } from '../core/collections';
import { DataplaneMode } from '../core/dataplane-mode';
import { fieldError } from '../core/errors';
import { istioObject } from '../core/istio-object';
import { dnsLabelName } from '../core/names';
import { EgressNetworkPolicy } from '../network-policy/egress-network-policy';
import { peerScope } from '../network-policy/peers';

/** The cloud metadata endpoint: never part of `Anywhere` (UDS: `0.0.0.0/0 except 169.254.169.254/32`). */
const METADATA_CIDR = '169.254.169.254/32';
const BASE = 'egress-allow-list';
const OutboundMode = net.SidecarSpecOutboundTrafficPolicyMode;

/** The NetworkPolicies of the clients of each gateway (by plan) and of the waypoint. @internal */
export type ClientPolicies = Map<GatewayPlan | 'waypoint', EgressNetworkPolicy[]>;

/**
 * Realises every namespace of the allow-list (after the sidecar and ambient hosts) and adds its rows to the matrix;
 * returns the client NetworkPolicies of each proxy, for the fences. @internal
 */
export function realiseNamespaces(
  ctx: AllowListContext,
  namespaces: string[],
  rules: AllowRule[],
  sidecarPlan: SidecarPlan,
  waypoint: IEgressWaypoint | undefined,
): ClientPolicies {
  const clientPolicies: ClientPolicies = new Map();
  const byNamespace = new Map<string, AllowRule[]>();
  for (const r of rules) {
    addToList(byNamespace, r.namespace, r);
  }
  for (const ns of namespaces) {
    const mine = byNamespace.get(ns) ?? [];
    const mode = ctx.modeOf(ns);
    const sidecar = mode === DataplaneMode.SIDECAR;
    const scope = new Construct(ctx.scope, `Namespace-${ns}`);
    const selectors = new Map<string, { [key: string]: string } | undefined>([['', undefined]]);
    for (const r of mine) {
      if (r.selector !== undefined) {
        selectors.set(labelText(r.selector), r.selector);
      }
    }
    for (const [key, selector] of [...selectors].sort(([a], [b]) => cmp(a, b))) {
      const own = mine.filter((r) => (r.selector === undefined ? key === '' : labelText(r.selector) === key));
      const name = key === '' ? BASE : dnsLabelName([BASE, selectorSlug(selector!)]);
      const policy = atEntries(ctx, own, () =>
        new EgressNetworkPolicy(scope, `NetworkPolicy-${name}`, { namespace: ns, name, podLabels: selector, dataplane: mode, mesh: ctx.mesh }),
      );
      addEntryLabels(ctx, policy, own);
      const seenPlans = new Set<GatewayPlan>();
      let usesWaypoint = false;
      for (const r of own) {
        if (r.kind === 'host') {
          if (sidecar) {
            const unit = sidecarPlan.unitOf(r.host.name);
            atWhere(ctx, r.where, () => policy.allowEgressPath(unit.construct!));
            if (!seenPlans.has(unit.gateway!)) {
              seenPlans.add(unit.gateway!);
              addToList(clientPolicies, unit.gateway!, policy);
            }
          } else if (!usesWaypoint) {
            usesWaypoint = true;
            policy.allowWaypoint(waypoint!);
            addToList(clientPolicies, 'waypoint', policy);
          }
        } else {
          addNetworkRule(ctx, policy, r);
        }
        ctx.rows.push(rowOf(r, mode, ctx.hostPath));
      }
      if (sidecar) {
        // the Sidecar of these pods: entries whose selector this one contains (every-pod entries always)
        const applicable = mine.filter((r) => r.selector === undefined || (selector !== undefined && contains(selector, r.selector)));
        sidecarResource(ctx, sidecarPlan, scope, ns, name, selector, applicable);
        const cidrRules = own.filter((r): r is NetworkRule => r.kind === 'network' && r.protocol === RemoteProtocol.TCP && r.generated !== RemoteGenerated.ANYWHERE);
        cidrRules.forEach((r) => cidrServiceEntry(scope, ns, r));
      }
    }
  }
  return clientPolicies;
}

function addEntryLabels(ctx: AllowListContext, policy: EgressNetworkPolicy, rules: AllowRule[]): void {
  const seen = new Map<string, { value: string; where: string }>();
  for (const r of rules) {
    for (const [k, v] of Object.entries(r.labels ?? {})) {
      const other = seen.get(k);
      if (other !== undefined && other.value !== v) {
        fieldError(ctx.scope, `${r.where}: labels.${k}`, `"${v}" differs from "${other.value}" given by ${other.where} for the same NetworkPolicy (same namespace and selector); use one value`);
      }
      seen.set(k, { value: v, where: r.where });
      ApiObject.of(policy.networkPolicy).metadata.addLabel(k, v);
    }
  }
}

function addNetworkRule(ctx: AllowListContext, policy: EgressNetworkPolicy, r: NetworkRule): void {
  const cidrs: Array<{ cidr: string; except: string[] }> =
    r.generated === RemoteGenerated.ANYWHERE
      ? [{ cidr: '0.0.0.0/0', except: [METADATA_CIDR] }]
      : r.generated === RemoteGenerated.CLOUD_METADATA
        ? [{ cidr: METADATA_CIDR, except: [] }]
        : r.generated === RemoteGenerated.KUBE_API
          ? (ctx.options.kubeApiCidrs ?? []).map((cidr) => ({ cidr, except: [] }))
          : [{ cidr: r.remoteCidr!, except: [] }];
  const ports =
    r.ports.length === 0
      ? [plus.NetworkPolicyPort.of({ protocol: r.protocol === RemoteProtocol.UDP ? plus.NetworkProtocol.UDP : plus.NetworkProtocol.TCP })]
      : r.ports.map((p) => (r.protocol === RemoteProtocol.UDP ? plus.NetworkPolicyPort.udp(p) : plus.NetworkPolicyPort.tcp(p)));
  cidrs.forEach((c, i) => {
    const id = `Peer-${r.index}-${shortHash(r.where)}-${i}`;
    // outside the app's tree, like the policy's own peers: cdk8s-plus renders the block into the rule at once
    const peer = plus.NetworkPolicyIpBlock.ipv4(peerScope(), id, c.cidr, c.except.length > 0 ? c.except : undefined);
    atWhere(ctx, r.where, () => policy.networkPolicy.addEgressRule(peer, ports));
  });
}

function sidecarResource(
  ctx: AllowListContext,
  sidecarPlan: SidecarPlan,
  scope: Construct,
  ns: string,
  name: string,
  selector: { [key: string]: string } | undefined,
  rules: AllowRule[],
): void {
  const hosts = new Set<string>(['./*']);
  let anywhere = false;
  for (const r of rules) {
    if (r.kind === 'host') {
      const unit = sidecarPlan.unitOf(r.host.name);
      hosts.add(`${ctx.gatewayNamespace}/${r.host.name}`);
      hosts.add(`${ctx.gatewayNamespace}/${unit.gateway!.gateway!.serviceFqdn}`);
    } else if (r.generated === RemoteGenerated.ANYWHERE) {
      anywhere = true;
    } else if (r.generated === RemoteGenerated.KUBE_API) {
      hosts.add(`default/kubernetes.default.svc.${ctx.mesh.clusterDomain}`);
    }
  }
  istioObject(scope, `Sidecar-${name}`, net.Sidecar, {
    metadata: { name, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'cdk8s-istio-egress' } },
    spec: {
      workloadSelector: selector === undefined ? undefined : { labels: { ...selector } },
      egress: [{ hosts: [...hosts].sort() }],
      outboundTrafficPolicy: {
        mode: anywhere ? OutboundMode.ALLOW_UNDERSCORE_ANY : OutboundMode.REGISTRY_UNDERSCORE_ONLY,
      },
    },
  });
}

/** A TCP `remoteCidr` in sidecar mode: a ServiceEntry for the range, so a REGISTRY_ONLY sidecar passes it. */
function cidrServiceEntry(scope: Construct, ns: string, r: NetworkRule): void {
  const cidrs = r.generated === RemoteGenerated.CLOUD_METADATA ? [METADATA_CIDR] : r.generated === RemoteGenerated.KUBE_API ? [] : [r.remoteCidr!];
  if (cidrs.length === 0) {
    return;
  }
  const label = shortHash(JSON.stringify([cidrs, r.ports, r.selector ?? null]));
  const name = dnsLabelName([BASE, 'cidr', label]);
  istioObject(scope, `Cidr-${label}`, net.ServiceEntry, {
    metadata: { name, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'cdk8s-istio-egress' } },
    spec: {
      hosts: [`${name}.${ns}.cidr.invalid`],
      addresses: cidrs,
      exportTo: ['.'],
      location: net.ServiceEntrySpecLocation.MESH_UNDERSCORE_EXTERNAL,
      resolution: net.ServiceEntrySpecResolution.NONE,
      ports: r.ports.map((p) => ({ number: p, name: `tcp-${p}`, protocol: 'TCP' })),
    },
  });
}

function selectorSlug(labels: { [key: string]: string }): string {
  const text = Object.keys(labels).sort().map((k) => `${k}-${labels[k]}`).join('-').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  return `${text.slice(0, 30).replace(/-+$/, '')}-${shortHash(labelText(labels))}`;
}
