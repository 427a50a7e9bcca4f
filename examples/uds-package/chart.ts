import * as fs from 'fs';
import * as path from 'path';
import { Chart, ChartProps } from 'cdk8s';
import { DataplaneMode, EgressAllowList, EgressAllowListSpec } from 'cdk8s-istio-egress';
import * as plus from 'cdk8s-plus-28';
import { Construct } from 'constructs';

/**
 * Migrating from UDS Core: the teams' `Package` CRs (packages.yaml) are read as is. Entries this library does not
 * realise (the Ingress rule, `spec.monitor`) are skipped on request and listed in the egress matrix, never dropped
 * silently.
 */
export class UdsPackageExample extends Chart {
  public readonly allowList: EgressAllowList;

  public constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);
    const text = fs.readFileSync(path.join(__dirname, 'packages.yaml'), 'utf-8');
    const spec = EgressAllowListSpec.fromYaml(text, 'examples/uds-package/packages.yaml', { skipUnsupported: true });

    // UDS's namespaces for the shared egress objects
    new plus.k8s.KubeNamespace(this, 'GatewayNamespace', { metadata: { name: 'istio-egress-gateway' } });
    for (const ns of spec.namespaces) {
      const ambient = spec.modeOf(ns) === DataplaneMode.AMBIENT;
      new plus.k8s.KubeNamespace(this, `Namespace-${ns}`, {
        metadata: { name: ns, labels: ambient ? { 'istio.io/dataplane-mode': 'ambient' } : { 'istio-injection': 'enabled' } },
      });
    }

    this.allowList = new EgressAllowList(this, 'egress', {
      spec,
      gatewayNamespace: 'istio-egress-gateway',
      waypointNamespace: 'istio-egress-ambient',
    });
  }
}
