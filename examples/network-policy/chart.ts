import { Chart, ChartProps } from 'cdk8s';
import { EgressGateway, EgressGatewayNetworkPolicy, EgressNetworkPolicy, WildcardEgressGateway, WorkloadIdentity } from 'cdk8s-istio-egress';
import * as plus from 'cdk8s-plus-28';
import { Construct } from 'constructs';

/**
 * The NetworkPolicy scenario of Istio's "Egress Gateways" task, done right: the `sleep` app in namespace
 * `test-egress` may reach `edition.cnn.com` only through the egress gateway, and nothing else but DNS and istiod.
 *
 * What differs from the task:
 * - namespaces are selected by their immutable `kubernetes.io/metadata.name` label: no hand-made labels on
 *   `kube-system` and `istio-system` (`kubectl label ns kube-system kube-system=true`) that anyone allowed to label
 *   namespaces could copy onto a namespace of their own;
 * - DNS is allowed over UDP **and** TCP, and only to the cluster DNS pods, not to every pod of `kube-system`;
 * - the pods may reach istiod only on 15012 and the egress gateway only on its listener port (8443), instead of every
 *   port of every pod in `istio-system`;
 * - the gateway runs in its own namespace `istio-egress-cnn`, not in Istio's root namespace (and not in the
 *   `istio-egress` namespace of the wildcard example, so all examples can be applied to one cluster);
 * - the egress gateway is locked down too: it may connect to the internet only on 443, never to private, link-local
 *   or cloud metadata addresses, and only the pods of `test-egress` may connect to it.
 */
export class NetworkPolicyExample extends Chart {
  public readonly wildcard: WildcardEgressGateway;
  public readonly lockdown: EgressNetworkPolicy;
  public readonly gatewayLockdown: EgressGatewayNetworkPolicy;

  public constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);

    new plus.k8s.KubeNamespace(this, 'EgressNamespace', { metadata: { name: 'istio-egress-cnn' } });
    new plus.k8s.KubeNamespace(this, 'TestNamespace', { metadata: { name: 'test-egress', labels: { 'istio-injection': 'enabled' } } });

    // The sleep sample (samples/sleep/sleep.yaml) in test-egress.
    const sleepLabels = { app: 'sleep' };
    new plus.k8s.KubeServiceAccount(this, 'SleepServiceAccount', { metadata: { name: 'sleep', namespace: 'test-egress' } });
    new plus.k8s.KubeDeployment(this, 'Sleep', {
      metadata: { name: 'sleep', namespace: 'test-egress' },
      spec: {
        replicas: 1,
        selector: { matchLabels: sleepLabels },
        template: {
          // `version` with `app`: the labels Istio's telemetry expects (istioctl validate checks them)
          metadata: { labels: { ...sleepLabels, version: 'v1' } },
          spec: {
            serviceAccountName: 'sleep',
            terminationGracePeriodSeconds: 0,
            containers: [{ name: 'sleep', image: 'curlimages/curl', command: ['/bin/sleep', 'infinity'], imagePullPolicy: 'IfNotPresent' }],
          },
        },
      },
    });

    const gateway = new EgressGateway(this, 'EgressGateway', { namespace: 'istio-egress-cnn' });
    this.wildcard = new WildcardEgressGateway(this, 'Cnn', {
      gateway,
      name: 'cnn',
      hosts: ['edition.cnn.com'],
      allowFrom: [WorkloadIdentity.serviceAccount('test-egress', 'sleep')],
    });

    // Every pod of test-egress: DNS, istiod, and the gateway's listener port; nothing else.
    this.lockdown = new EgressNetworkPolicy(this, 'TestEgressLockdown', { namespace: 'test-egress' });
    this.lockdown.allowEgressPath(this.wildcard);

    // The gateway pods: DNS, istiod, and the public internet on 443; reached only from test-egress.
    this.gatewayLockdown = new EgressGatewayNetworkPolicy(this, 'GatewayLockdown', { paths: [this.wildcard] });
    this.gatewayLockdown.allowClient(this.lockdown);
  }
}
