import { App, Chart } from 'cdk8s';
import * as egress from 'cdk8s-istio-egress';
import * as plus from 'cdk8s-plus-28';

const app = new App();
const chart = new Chart(app, 'wildcard-egress');

// The namespace of the egress gateway.
new plus.k8s.KubeNamespace(chart, 'EgressNamespace', { metadata: { name: 'istio-egress' } });

// A dedicated egress gateway: 2 replicas, hardened, with a PodDisruptionBudget.
const gateway = new egress.EgressGateway(chart, 'EgressGateway', {
  namespace: 'istio-egress',
  name: 'egress-gateway',
  replicas: 2,
});

// The `sleep` service account of namespace `default` may reach every *.wikipedia.org host over TLS, through the
// gateway; nothing else leaves through it.
new egress.WildcardEgressGateway(chart, 'Wikipedia', {
  gateway,
  hosts: ['*.wikipedia.org'],
  allowFrom: [egress.WorkloadIdentity.serviceAccount('default', 'sleep')],
});

app.synth();
