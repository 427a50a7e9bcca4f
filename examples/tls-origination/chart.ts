import { Chart, ChartProps } from 'cdk8s';
import { EgressGateway, EgressPort, OriginationTls, TlsOriginationEgress, WorkloadIdentity } from 'cdk8s-istio-egress';
import * as plus from 'cdk8s-plus-28';
import { Construct } from 'constructs';

/** The example's own namespace, so it applies to one cluster together with the other examples. */
const TLS_ORIGINATION_NAMESPACE = 'istio-egress-tls';

/**
 * Istio's task "Perform TLS origination with an egress gateway": the `sleep` app in namespace `default` calls
 * `http://edition.cnn.com/politics` in plain HTTP; its sidecar sends the request over Istio mTLS to a dedicated egress
 * gateway in `istio-egress-tls`, which opens TLS to `edition.cnn.com:443`, verifying the server's certificate against
 * the system roots and the host name. Nothing else leaves through the gateway.
 *
 * The gateway has a namespace of its own (not `istio-egress`, which the other examples' gateway uses), so every
 * example applies to one cluster without two of them defining the same object differently.
 *
 * Try it (with Istio's `sleep` sample in `default`):
 * `kubectl exec deploy/sleep -c sleep -- curl -sSL -o /dev/null -D - http://edition.cnn.com/politics` answers
 * `200 OK` without the `301 Moved Permanently` to https, and the gateway logs the request.
 */
export class TlsOriginationExample extends Chart {
  public readonly origination: TlsOriginationEgress;

  public constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);

    new plus.k8s.KubeNamespace(this, 'EgressNamespace', { metadata: { name: TLS_ORIGINATION_NAMESPACE } });

    const gateway = new EgressGateway(this, 'EgressGateway', {
      namespace: TLS_ORIGINATION_NAMESPACE,
      name: 'egress-gateway',
      // Sidecars send plain HTTP inside Istio mTLS to this port (the pods listen on 8080).
      ports: [EgressPort.http(80)],
    });

    this.origination = new TlsOriginationEgress(this, 'Cnn', {
      gateway,
      hosts: ['edition.cnn.com'],
      tls: OriginationTls.simple(),
      allowFrom: [WorkloadIdentity.serviceAccount('default', 'sleep')],
    });
  }
}
