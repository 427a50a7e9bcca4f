/**
 * Three teams, each with its own allow-list and its own egress gateway, and NetworkPolicies that stop every pod from
 * going around its gateway. The same app in Python is in docs/python.md; CI checks that both write the same bytes.
 *
 * - billing: the `checkout` service account may reach api.stripe.com;
 * - research: every workload of namespace `research` may reach *.wikipedia.org;
 * - data: the `loader` service account may reach storage.googleapis.com and bigquery.googleapis.com.
 *
 * One gateway per team: a gateway port carries one allow-list, and separate gateways keep one team's traffic, load
 * and outages away from the others.
 */
import { App, Chart } from 'cdk8s';
import * as egress from 'cdk8s-istio-egress';
import * as plus from 'cdk8s-plus-28';

const app = new App();
const chart = new Chart(app, 'three-teams');

const gatewayNamespace = 'istio-egress-teams';
new plus.k8s.KubeNamespace(chart, 'EgressNamespace', { metadata: { name: gatewayNamespace } });

const teams = [
  { name: 'billing', hosts: ['api.stripe.com'], allowFrom: [egress.WorkloadIdentity.serviceAccount('billing', 'checkout')] },
  { name: 'research', hosts: ['*.wikipedia.org'], allowFrom: [egress.WorkloadIdentity.allInNamespace('research')] },
  { name: 'data', hosts: ['storage.googleapis.com', 'bigquery.googleapis.com'], allowFrom: [egress.WorkloadIdentity.serviceAccount('data', 'loader')] },
];

for (const team of teams) {
  new plus.k8s.KubeNamespace(chart, `${team.name}-namespace`, {
    metadata: { name: team.name, labels: { 'istio-injection': 'enabled' } },
  });

  // The team's gateway and allow-list.
  const gateway = new egress.EgressGateway(chart, `${team.name}-gateway`, { namespace: gatewayNamespace, name: `${team.name}-egress` });
  const path = new egress.WildcardEgressGateway(chart, team.name, {
    gateway,
    name: team.name,
    hosts: team.hosts,
    allowFrom: team.allowFrom,
  });

  // Every pod of the team's namespace may reach DNS, istiod and its gateway; nothing else.
  const lockdown = new egress.EgressNetworkPolicy(chart, `${team.name}-lockdown`, { namespace: team.name, egressPaths: [path] });

  // The gateway pods may reach DNS, istiod and public addresses on 443; only the team's pods may reach them.
  const gatewayLockdown = new egress.EgressGatewayNetworkPolicy(chart, `${team.name}-gateway-lockdown`, {
    name: `${team.name}-egress-lockdown`,
    paths: [path],
  });
  gatewayLockdown.allowClient(lockdown);
}

app.synth();
