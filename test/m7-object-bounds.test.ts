import { Testing } from 'cdk8s';
import { TlsOriginationEgress, WildcardEgressGateway, WorkloadIdentity } from '../src';
import { synthValid } from './schema';

const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;
const hostNames = (n: number, label = 'h') => Array.from({ length: n }, (_, i) => `${label}${String(i).padStart(5, '0')}.example.com`);
const serviceEntries = (objects: any[]) => objects.filter((o) => o.kind === 'ServiceEntry');

describe('M7: every list with a schema bound is split or refused; objects stay appliable', () => {
  test('M7: 257 hosts give two ServiceEntries of at most 256 hosts (the CRD maxItems), named <name> and <name>-2', () => {
    const chart = Testing.chart();
    const hosts = hostNames(257);
    new WildcardEgressGateway(chart, 'w', { hosts });
    const entries = serviceEntries(synthValid(chart));
    expect(entries.map((e) => [e.metadata.name, e.spec.hosts.length])).toEqual([
      ['wildcard-egress', 256],
      ['wildcard-egress-2', 1],
    ]);
    // together they list every host once, in order
    expect(entries.flatMap((e) => e.spec.hosts)).toEqual([...hosts].sort());
    // the same ports, exportTo and resolution on each
    expect(entries[1].spec).toEqual({ ...entries[0].spec, hosts: entries[1].spec.hosts });
  });

  test('M7: hosts added later open the next ServiceEntry when they need it', () => {
    const chart = Testing.chart();
    const w = new WildcardEgressGateway(chart, 'w', { hosts: hostNames(256) });
    expect(serviceEntries(Testing.synth(chart))).toHaveLength(1);
    hostNames(300, 'x').forEach((h) => w.addHost(h));
    expect(serviceEntries(synthValid(chart)).map((e) => e.spec.hosts.length)).toEqual([256, 256, 44]);
  });

  test('M7: a TLS origination of 600 hosts splits both its client and its upstream ServiceEntries', () => {
    const chart = Testing.chart();
    new TlsOriginationEgress(chart, 'o', { hosts: hostNames(600), allowFrom: [WorkloadIdentity.allInNamespace('apps')] });
    const names = serviceEntries(synthValid(chart)).map((e) => `${e.metadata.name}:${e.spec.hosts.length}:${e.spec.ports[0].number}`).sort();
    expect(names).toEqual([
      'tls-origination:256:80',
      'tls-origination-2:256:80',
      'tls-origination-3:88:80',
      'tls-origination-upstream:256:443',
      'tls-origination-upstream-2:256:443',
      'tls-origination-upstream-3:88:443',
    ].sort());
  });

  test('M7: 10,000 hosts synthesize to objects the API server accepts (schema bounds, and each object under 1.5 MiB)', () => {
    const chart = Testing.chart();
    new WildcardEgressGateway(chart, 'w', { hosts: hostNames(10_000) });
    const objects = synthValid(chart);
    expect(serviceEntries(objects)).toHaveLength(40);
    for (const o of objects) {
      expect(Buffer.byteLength(JSON.stringify(o))).toBeLessThan(MAX_OBJECT_BYTES);
    }
  });

  test('M7: fails when the host list would make an object larger than the API server stores, naming the object and the fix', () => {
    const chart = Testing.chart();
    const long = (i: number) => `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.h${String(i).padStart(5, '0')}.example.com`;
    new WildcardEgressGateway(chart, 'w', { hosts: Array.from({ length: 4000 }, (_, i) => long(i)) });
    expect(() => Testing.synth(chart)).toThrow(
      /\[test\/w\] hosts: the VirtualService "istio-egress\/wildcard-egress" would be about \d+ KiB, more than the API server can store \(etcd's 1.5 MiB per object\); split the 4000 hosts over several WildcardEgressGateways/,
    );
  });

  test('M7: fails for a TLS origination whose DNS EnvoyFilter (one patch per host) would be too large', () => {
    const chart = Testing.chart();
    new TlsOriginationEgress(chart, 'o', { hosts: hostNames(5000), allowFrom: [WorkloadIdentity.allInNamespace('apps')] });
    expect(() => Testing.synth(chart)).toThrow(/hosts: the EnvoyFilter "istio-egress\/tls-origination-dns" would be about \d+ KiB/);
  });

  test('M7: the size estimate is conservative: a TLS origination just under the bound synthesizes under 1.5 MiB per object', () => {
    const chart = Testing.chart();
    new TlsOriginationEgress(chart, 'o', { hosts: hostNames(3500), allowFrom: [WorkloadIdentity.allInNamespace('apps')] });
    for (const o of Testing.synth(chart)) {
      expect(Buffer.byteLength(JSON.stringify(o))).toBeLessThan(MAX_OBJECT_BYTES);
    }
  });
});
