import { ApiObject, Testing } from 'cdk8s';
import { expectSchemaValid, schemaProblems, synthValid } from './schema';
import { DestinationRule } from '../imports/networking.istio.io';
import { loadAllCrds, loadUsedCrds, USED_KINDS } from '../scripts/crds';

describe('CRD schema check', () => {
  test('accepts a valid Istio object built with the generated classes', () => {
    const chart = Testing.chart();
    new DestinationRule(chart, 'dr', { metadata: { name: 'egress' }, spec: { host: 'egress.istio-egress.svc.cluster.local' } });
    expect(synthValid(chart)).toHaveLength(1);
  });

  test('rejects a misspelled field', () => {
    const obj = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'x' },
      spec: { host: 'a.example.com', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL', snii: 'a.example.com' } } },
    };
    expect(schemaProblems(obj)).toEqual(['DestinationRule /x: /spec/trafficPolicy/tls must NOT have additional properties "snii"']);
    expect(() => expectSchemaValid([obj])).toThrow('objects do not match their CRD schemas');
  });

  test('rejects a wrong enum value and a wrong type, and synthValid throws on them', () => {
    const chart = Testing.chart();
    new ApiObject(chart, 'se', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'se' },
      spec: { hosts: ['a.example.com'], resolution: 'MAGIC', ports: [{ number: '443', name: 'tls', protocol: 'TLS' }] },
    } as any);
    const problems = schemaProblems(Testing.synth(chart)[0]);
    expect(problems).toContain('ServiceEntry /se: /spec/resolution must be equal to one of the allowed values');
    expect(problems).toContain('ServiceEntry /se: /spec/ports/0/number must be integer');
    expect(() => synthValid(chart)).toThrow('/spec/resolution must be equal to one of the allowed values');
  });

  test('rejects an unknown or unserved Istio version and ignores core kinds', () => {
    expect(schemaProblems({ apiVersion: 'networking.istio.io/v9', kind: 'Gateway', metadata: { name: 'g' } })).toEqual([
      'Gateway /g: no served CRD version for networking.istio.io/v9/Gateway',
    ]);
    expect(schemaProblems({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { whatever: true } })).toEqual([]);
  });

  test('a missing CRD directory is a failure that says how to point at one', () => {
    const before = process.env.ISTIO_EGRESS_CRDS_DIR;
    process.env.ISTIO_EGRESS_CRDS_DIR = '/nonexistent/crds';
    try {
      expect(() => loadAllCrds()).toThrow(
        'CRD directory "/nonexistent/crds" not found. The pinned Istio and Gateway API CRDs are expected in ../shared/crds beside this repository; set ISTIO_EGRESS_CRDS_DIR=/path/to/crds',
      );
    } finally {
      if (before === undefined) {
        delete process.env.ISTIO_EGRESS_CRDS_DIR;
      } else {
        process.env.ISTIO_EGRESS_CRDS_DIR = before;
      }
    }
  });

  test('every kind the library uses is in the pinned CRDs, reduced to one served storage version', () => {
    const crds = loadUsedCrds();
    expect(crds.map((c) => `${c.spec.group}/${c.spec.versions[0].name}/${c.spec.names.kind}`)).toEqual(USED_KINDS.map((k) => `${k.group}/${k.version}/${k.kind}`));
    for (const crd of crds) {
      expect(crd.spec.versions).toHaveLength(1);
      expect(crd.spec.versions[0]).toMatchObject({ served: true, storage: true });
    }
  });
});
