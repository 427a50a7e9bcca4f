/**
 * The library makes its Istio objects as plain ApiObjects (src/core/istio-object.ts) instead of through the classes
 * `cdk8s import` generated, whose second rendering pass costs synth time. That is only right if the generated pass
 * changes nothing in what the library makes: these tests render every Istio object of every example both ways.
 */
import { ApiObject, App, Chart, JsonPatch, Lazy, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import * as fc from 'fast-check';
import { defineAmbientEgress } from '../examples/ambient-egress/chart';
import { NetworkPolicyExample } from '../examples/network-policy/chart';
import { PlatformExample } from '../examples/platform/chart';
import { TlsOriginationExample } from '../examples/tls-origination/chart';
import { UdsPackageExample } from '../examples/uds-package/chart';
import { WildcardEgressExample } from '../examples/wildcard-egress/chart';
import * as net from '../imports/networking.istio.io';
import * as sec from '../imports/security.istio.io';
import * as tel from '../imports/telemetry.istio.io';
import { istioObject } from '../src/core/istio-object';

/** The generated class of each Istio kind, by apiVersion and kind. */
const GENERATED = new Map<string, new (scope: Construct, id: string, props: any) => ApiObject>();
for (const mod of [net, sec, tel]) {
  for (const value of Object.values(mod)) {
    const gvk = (value as any)?.GVK;
    if (typeof value === 'function' && gvk !== undefined) {
      GENERATED.set(`${gvk.apiVersion}/${gvk.kind}`, value as any);
    }
  }
}

/** Every Istio object of the example apps, as the library renders it. */
function exampleObjects(): any[] {
  const charts: Chart[] = [
    new PlatformExample(Testing.app(), 'platform'),
    new NetworkPolicyExample(Testing.app(), 'network-policy'),
    new TlsOriginationExample(Testing.app(), 'tls-origination'),
    new UdsPackageExample(Testing.app(), 'uds-package'),
    new WildcardEgressExample(Testing.app(), 'wildcard-egress'),
  ];
  const ambient = new Chart(Testing.app(), 'ambient-egress');
  defineAmbientEgress(ambient);
  charts.push(ambient);
  return charts.flatMap((c) => Testing.synth(c)).filter((o) => /\.istio\.io\//.test(o.apiVersion));
}

describe('Istio objects made as plain ApiObjects', () => {
  const objects = exampleObjects();

  test('the examples make every Istio kind the library makes', () => {
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of ['ServiceEntry', 'AuthorizationPolicy', 'DestinationRule', 'VirtualService', 'Gateway', 'EnvoyFilter', 'Sidecar', 'PeerAuthentication', 'Telemetry']) {
      expect(kinds).toContain(kind);
    }
  });

  test('the generated class renders each of them exactly as the library did (same field names, values and order)', () => {
    for (const o of objects) {
      const generated = GENERATED.get(`${o.apiVersion}/${o.kind}`);
      expect(generated).toBeDefined();
      const { apiVersion, kind, ...props } = o;
      const again = new generated!(Testing.chart(), 'again', props).toJson();
      // the same text: equal values with the keys in the same order
      expect(JSON.stringify(again)).toEqual(JSON.stringify(o));
    }
  });

  test('the same props give the same object either way, Lazy values and JSON patches included', () => {
    const chart = Testing.chart();
    const props: net.ServiceEntryProps = {
      metadata: { name: 'partner', namespace: 'istio-egress', labels: { b: '2', a: '1' } },
      spec: {
        hosts: Lazy.any({ produce: () => ['api.partner.example'] }) as unknown as string[],
        ports: [{ number: 443, name: 'tls-443', protocol: 'TLS' }],
        resolution: net.ServiceEntrySpecResolution.DNS,
        location: net.ServiceEntrySpecLocation.MESH_UNDERSCORE_EXTERNAL,
        exportTo: ['.'],
      },
    };
    const plain = istioObject(chart, 'plain', net.ServiceEntry, props);
    const generated = new net.ServiceEntry(chart, 'generated', props);
    for (const o of [plain, generated]) {
      // patched fields end up where the generated class put them: in sorted (schema) order
      o.addJsonPatch(JsonPatch.add('/spec/subjectAltNames', ['spiffe://example/ns/x/sa/y']), JsonPatch.add('/spec/addresses', ['240.0.0.1']));
    }
    expect(Object.keys(plain.toJson().spec)[0]).toBe('addresses');
    expect(plain).toBeInstanceOf(ApiObject);
    expect(JSON.stringify(plain.toJson())).toEqual(JSON.stringify(generated.toJson()));
    // the one difference: a patch adding a field the generated schema does not know is kept, not dropped
    plain.addJsonPatch(JsonPatch.add('/spec/futureField', true));
    expect(plain.toJson().spec.futureField).toBe(true);
  });

  test('property: random ServiceEntry and AuthorizationPolicy props render the same either way', () => {
    const label = fc.stringMatching(/^[a-z]([a-z0-9-]{0,10}[a-z0-9])?$/);
    fc.assert(
      fc.property(
        fc.dictionary(label, label, { maxKeys: 4 }),
        fc.uniqueArray(label.map((l) => `${l}.example.com`), { minLength: 1, maxLength: 4 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { minLength: 1, maxLength: 3 }),
        fc.constantFrom('TLS', 'HTTP', 'HTTPS', 'TCP'),
        fc.option(fc.array(label, { maxLength: 3 }), { nil: undefined }),
        (labels, hosts, ports, protocol, namespaces) => {
          const app = new App();
          const chart = new Chart(app, 'c');
          const se: net.ServiceEntryProps = {
            metadata: { name: 'se', namespace: 'ns', labels },
            spec: {
              hosts,
              ports: ports.map((n) => ({ number: n, name: `p-${n}`, protocol })),
              resolution: net.ServiceEntrySpecResolution.DNS,
              exportTo: namespaces,
            },
          };
          const ap: sec.AuthorizationPolicyProps = {
            metadata: { name: 'ap', namespace: 'ns' },
            spec: {
              action: sec.AuthorizationPolicySpecAction.ALLOW,
              rules: [{
                from: namespaces === undefined ? undefined : [{ source: { namespaces } }],
                to: [{ operation: { ports: ports.map(String), hosts } }],
              }],
            },
          };
          const same = (a: ApiObject, b: ApiObject) => JSON.stringify(a.toJson()) === JSON.stringify(b.toJson());
          return same(istioObject(chart, 'se1', net.ServiceEntry, se), new net.ServiceEntry(chart, 'se2', se)) &&
            same(istioObject(chart, 'ap1', sec.AuthorizationPolicy, ap), new sec.AuthorizationPolicy(chart, 'ap2', ap));
        },
      ),
      { numRuns: 100 },
    );
  });
});
