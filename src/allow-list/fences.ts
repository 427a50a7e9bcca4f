/**
 * The fences of an allow-list's proxies: an `EgressGatewayNetworkPolicy` per planned gateway and one for the waypoint,
 * admitting only the allow-list's clients and letting the proxy reach only its hosts' ports. A given gateway or
 * waypoint is fenced only with `fenceGivenProxies`.
 */
import { AmbientPlan } from './ambient-plan';
import { AllowListContext } from './context';
import { ClientPolicies } from './namespace-plan';
import { GatewayPlan } from './sidecar-plan';
import { sortedUnique } from '../core/collections';
import { EgressPathConfig, IEgressPath } from '../core/egress-path';
import { dnsLabelName } from '../core/names';
import { EgressGatewayNetworkPolicy } from '../network-policy/egress-gateway-network-policy';

/** Fences the gateways of `gatewayPlans` and the waypoint of `ambient`, each admitting its clients. @internal */
export function fenceProxies(
  ctx: AllowListContext,
  gatewayPlans: GatewayPlan[],
  ambient: AmbientPlan | undefined,
  clientPolicies: ClientPolicies,
): void {
  const fenceGiven = ctx.options.fenceGivenProxies ?? false;
  for (const plan of gatewayPlans) {
    if (ctx.options.gateway !== undefined && !fenceGiven) {
      continue;
    }
    const fence = new EgressGatewayNetworkPolicy(ctx.scope, `Fence-${plan.name}`, {
      paths: plan.units.map((u) => u.construct!),
      name: dnsLabelName([plan.name, 'lockdown']),
      mesh: ctx.mesh,
    });
    (clientPolicies.get(plan) ?? []).forEach((p) => fence.allowClient(p));
  }
  if (ambient !== undefined && ambient.hosts.size > 0 && (ctx.options.waypoint === undefined || fenceGiven)) {
    const waypoint = ambient.waypoint;
    const hostPorts = [...ambient.hosts.values()].flatMap((h) => h.ports.map((p) => p.targetPort ?? p.number));
    const externalPorts = sortedUnique(hostPorts);
    // the waypoint pods as an egress path: clients reach them on HBONE, they reach the hosts' ports
    const waypointPath: IEgressPath = {
      toEgressPathConfig: (): EgressPathConfig => ({
        namespace: waypoint.namespace,
        podLabels: waypoint.selectorLabels,
        podPorts: [waypoint.hbonePort],
        externalPorts,
      }),
    };
    const fence = new EgressGatewayNetworkPolicy(ctx.scope, 'Fence-waypoint', {
      paths: [waypointPath],
      name: dnsLabelName([waypoint.name, 'lockdown']),
      mesh: ctx.mesh,
    });
    (clientPolicies.get('waypoint') ?? []).forEach((p) => fence.allowClient(p));
  }
}
