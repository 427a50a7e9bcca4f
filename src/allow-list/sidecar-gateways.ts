/**
 * The sidecar-mode constructs of an allow-list, from its plan (`sidecar-plan.ts`): an `EgressGateway` per planned
 * gateway (or the given one), a `WildcardEgressGateway` or `TlsOriginationEgress` per unit, and the DENY policies
 * that enforce HTTP rules at the gateway.
 */
import { AllowListContext, atEntries, cmp } from './context';
import { HostRule } from './entry';
import { GatewayPlan, HttpRule, reservedProxyPort, SidecarPlan } from './sidecar-plan';
import * as sec from '../../imports/security.istio.io';
import { sortedUnique } from '../core/collections';
import { inField } from '../core/errors';
import { authorizationSources } from '../core/identity';
import { istioObject } from '../core/istio-object';
import { dnsLabelName } from '../core/names';
import { EgressPort } from '../core/port';
import { EgressGateway } from '../sidecar/egress-gateway';
import { TlsOriginationEgress } from '../sidecar/tls-origination-egress';
import { WildcardEgressGateway } from '../sidecar/wildcard-egress-gateway';

/** Plans the sidecar-mode hosts and makes their gateways and routes; every host's path is recorded. @internal */
export function realiseSidecar(ctx: AllowListContext, rules: HostRule[]): SidecarPlan {
  const sidecar = new SidecarPlan(ctx, rules);
  for (const plan of sidecar.gatewayPlans) {
    const targets = podPorts([...plan.tlsPorts, ...plan.httpPorts.keys()]);
    const ports = [
      ...[...plan.tlsPorts].sort((a, b) => a - b).map((p) => EgressPort.tls(p, { targetPort: targets.get(p) })),
      ...[...plan.httpPorts.keys()].sort((a, b) => a - b).map((p) => EgressPort.http(p, { targetPort: targets.get(p) })),
    ];
    plan.gateway =
      ctx.options.gateway ??
      inField(ctx.scope, `gateway ${plan.name}`, () =>
        new EgressGateway(ctx.scope, `Gateway-${plan.name}`, { name: plan.name, namespace: ctx.gatewayNamespace, ports, mesh: ctx.mesh, replicas: ctx.options.gatewayReplicas }),
      );
    for (const u of plan.units) {
      const hosts = [...u.hosts.keys()].sort(cmp);
      const allEntries = [...u.hosts.values()].flat();
      if (u.kind === 'tls') {
        const name = dnsLabelName([plan.name, 'tls', u.ports.join('-')]);
        const construct = atEntries(ctx, allEntries, () =>
          new WildcardEgressGateway(ctx.scope, `Tls-${name}`, { gateway: plan.gateway, name, ports: u.ports, allowFrom: u.group.identities, mesh: ctx.mesh }),
        );
        hosts.forEach((h) => atEntries(ctx, u.hosts.get(h)!, () => construct.addHost(h)));
        u.construct = construct;
      } else {
        const gatewayPort = [...plan.httpPorts].find(([, x]) => x === u)![0];
        const name = dnsLabelName([plan.name, 'http', String(u.ports[0])]);
        const construct = atEntries(ctx, allEntries, () =>
          new TlsOriginationEgress(ctx.scope, `Origination-${name}`, {
            gateway: plan.gateway,
            name,
            gatewayPort,
            httpPort: u.ports[0],
            tlsPort: u.tlsPort,
            allowFrom: u.group.identities,
            mesh: ctx.mesh,
          }),
        );
        hosts.forEach((h) => atEntries(ctx, u.hosts.get(h)!, () => construct.addHost(h, { tls: u.hosts.get(h)![0].origination })));
        u.construct = construct;
        if (u.group.httpRules.length > 0) {
          const given = ctx.options.gateway;
          const podPort = given === undefined ? targets.get(gatewayPort)! : given.ports.find((p) => p.number === gatewayPort)!.podPort;
          httpRulePolicy(ctx, name, plan, String(podPort), u.group.httpRules);
        }
      }
      for (const h of hosts) {
        ctx.hostPath.set(h, `gateway ${ctx.gatewayNamespace}/${plan.gateway.serviceName}`);
      }
    }
  }
  return sidecar;
}

/**
 * Enforces HTTP rules at the gateway that originates TLS: a DENY AuthorizationPolicy on the origination's gateway
 * port for each restricted identity, for any method or path outside its rule. The gateway serves only hosts with
 * exactly these rules (hosts are grouped by identities and rules), so no host match is needed.
 */
function httpRulePolicy(ctx: AllowListContext, name: string, plan: GatewayPlan, podPort: string, rules: HttpRule[]): void {
  const policyRules = rules.flatMap((r) => {
    const from = authorizationSources([r.identity], ctx.mesh);
    return [
      ...(r.methods === undefined ? [] : [{ from, to: [{ operation: { ports: [podPort], notMethods: r.methods } }] }]),
      ...(r.paths === undefined ? [] : [{ from, to: [{ operation: { ports: [podPort], notPaths: r.paths } }] }]),
    ];
  });
  istioObject(ctx.scope, `HttpRules-${name}`, sec.AuthorizationPolicy, {
    metadata: { name: dnsLabelName([name, 'http-rules']), namespace: ctx.gatewayNamespace, labels: { 'app.kubernetes.io/managed-by': 'cdk8s-istio-egress' } },
    spec: {
      selector: { matchLabels: plan.gateway!.selectorLabels },
      action: sec.AuthorizationPolicySpecAction.DENY,
      rules: policyRules,
    },
  });
}

/**
 * The pod port of each gateway Service port, distinct and deterministic: a port >= 1024 listens on itself; a low port
 * (the pods run as non-root) on port + 8000 (443 -> 8443, as `EgressGateway` does), or, when that is taken by
 * another Service port, the next free port from 20000 (never the proxy's 15000-15090).
 */
function podPorts(servicePorts: number[]): Map<number, number> {
  const sorted = sortedUnique(servicePorts);
  const used = new Set(sorted.filter((p) => p >= 1024));
  const out = new Map<number, number>();
  for (const p of sorted) {
    if (p >= 1024) {
      out.set(p, p);
      continue;
    }
    let t = p + 8000;
    if (used.has(t)) {
      t = 20000;
      while (used.has(t) || reservedProxyPort(t)) {
        t++;
      }
    }
    used.add(t);
    out.set(p, t);
  }
  return out;
}
