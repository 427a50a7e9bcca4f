import { Chart, ChartProps } from 'cdk8s';
import { EgressGateway, WildcardEgressGateway, WorkloadIdentity } from 'cdk8s-istio-egress';
import * as plus from 'cdk8s-plus-28';
import { Construct } from 'constructs';

/**
 * The Istio blog's scenario ("Routing egress traffic to wildcard destinations", 2023): the `sleep` app in
 * namespace `default` reaches any `*.wikipedia.org` host over TLS, through a dedicated egress gateway in
 * `istio-egress` that forwards each connection to the host named in its SNI. Nothing else leaves through it.
 */
export class WildcardEgressExample extends Chart {
  public readonly wildcard: WildcardEgressGateway;

  public constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);

    new plus.k8s.KubeNamespace(this, 'EgressNamespace', { metadata: { name: 'istio-egress' } });

    const gateway = new EgressGateway(this, 'EgressGateway', {
      namespace: 'istio-egress',
      name: 'egress-gateway',
      replicas: 2,
    });

    this.wildcard = new WildcardEgressGateway(this, 'Wikipedia', {
      gateway,
      hosts: ['*.wikipedia.org'],
      allowFrom: [WorkloadIdentity.serviceAccount('default', 'sleep')],
    });
  }
}
