import * as fs from 'fs';
import * as path from 'path';
import { Chart, ChartProps } from 'cdk8s';
import { DataplaneMode, EgressAllowList, EgressAllowListSpec } from 'cdk8s-istio-egress';
import * as plus from 'cdk8s-plus-28';
import { Construct } from 'constructs';

/**
 * A platform team's cluster: three teams declare their egress in one YAML document (platform.yaml); the allow-list
 * picks the path per team and mode (sidecar: a gateway per identity group; ambient: the waypoint), locks every
 * team namespace down with NetworkPolicies and REGISTRY_ONLY Sidecars, and writes the egress matrix beside the
 * manifests (dist/platform-egress.egress-matrix.md).
 */
export class PlatformExample extends Chart {
  public readonly allowList: EgressAllowList;

  public constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);
    // fromYaml with a relative name, so the matrix and messages name the file the same on every machine
    const spec = EgressAllowListSpec.fromYaml(fs.readFileSync(path.join(__dirname, 'platform.yaml'), 'utf-8'), 'examples/platform/platform.yaml');

    new plus.k8s.KubeNamespace(this, 'GatewayNamespace', { metadata: { name: 'platform-egress' } });
    for (const ns of spec.namespaces) {
      const ambient = spec.modeOf(ns) === DataplaneMode.AMBIENT;
      new plus.k8s.KubeNamespace(this, `Namespace-${ns}`, {
        metadata: { name: ns, labels: ambient ? { 'istio.io/dataplane-mode': 'ambient' } : { 'istio-injection': 'enabled' } },
      });
    }

    this.allowList = new EgressAllowList(this, 'egress', {
      spec,
      defaultMode: DataplaneMode.AMBIENT,
      gatewayNamespace: 'platform-egress',
      waypointNamespace: 'platform-egress-ambient',
      kubeApiCidrs: ['10.96.0.1/32'],
    });
  }
}
