import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ApiObject, Testing } from 'cdk8s';
import { expectSchemaValid, schemaProblems, schemaSetLabels, synthValid } from './schema';
import { DestinationRule } from '../imports/networking.istio.io';
import { CRD_SETS, CRDS_CACHE_ENV, fetchModule, IMPORTS_SET, loadAllCrds, loadUsedCrds, PinnedModule, USED_KINDS } from '../scripts/crds';

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

  test('a missing override directory is a failure that says how to use the pinned CRDs or another directory', () => {
    withEnv({ ISTIO_EGRESS_CRDS_DIR: '/nonexistent/crds' }, () => {
      expect(() => loadAllCrds()).toThrow(
        'CRD directory "/nonexistent/crds" (ISTIO_EGRESS_CRDS_DIR) not found. Unset ISTIO_EGRESS_CRDS_DIR to use the pinned Istio and Gateway API CRDs (fetched with Go), or point it at a directory of CRD YAML files.',
      );
    });
  });

  test('every kind the library uses is in the pinned CRDs, reduced to one served storage version', () => {
    const crds = loadUsedCrds();
    expect(crds.map((c) => `${c.spec.group}/${c.spec.versions[0].name}/${c.spec.names.kind}`)).toEqual(USED_KINDS.map((k) => `${k.group}/${k.version}/${k.kind}`));
    for (const crd of crds) {
      expect(crd.spec.versions).toHaveLength(1);
      expect(crd.spec.versions[0]).toMatchObject({ served: true, storage: true });
    }
  });

  test('imports/ come from the oldest supported minor: no generated field that an older supported Istio rejects', () => {
    expect(IMPORTS_SET).toBe(CRD_SETS[0]);
    expect(IMPORTS_SET.name).toBe('1.30');
  });
});

describe('Istio support window: every object is checked against the CRDs of 1.30, 1.31 and 1.32', () => {
  test('the schema checks run against each supported minor', () => {
    expect(schemaSetLabels()).toEqual(['Istio 1.30 CRDs', 'Istio 1.31 CRDs', 'Istio 1.32 CRDs']);
    expect(CRD_SETS.map((s) => `${s.name}: ${s.modules.map((m) => `${m.module}@${m.version}`).join(' ')}`)).toEqual([
      '1.30: istio.io/api@v1.30.8 sigs.k8s.io/gateway-api@v1.5.1',
      '1.31: istio.io/api@v1.31.4 sigs.k8s.io/gateway-api@v1.5.1',
      '1.32: istio.io/api@v1.32.0 sigs.k8s.io/gateway-api@v1.5.1',
    ]);
  });

  test('a field only newer minors know is a problem named for the minors that reject it', () => {
    // DestinationRule trafficPolicy.loadBalancer.zoneAwareLbSetting: added to the CRD after 1.30.
    const obj = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'zone' },
      spec: { host: 'a.example.com', trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN', zoneAwareLbSetting: { enabled: true } } } },
    };
    expect(schemaProblems(obj)).toEqual([
      'DestinationRule /zone: /spec/trafficPolicy/loadBalancer must NOT have additional properties "zoneAwareLbSetting" (Istio 1.30 CRDs)',
    ]);
  });
});

describe('pinned CRD download (scripts/crds.ts)', () => {
  const istio130 = CRD_SETS[0].modules[0];

  test('a file that does not match its pinned sha256 is refused', () => {
    const tampered: PinnedModule = { ...istio130, files: [{ ...istio130.files[0], sha256: '0'.repeat(64) }] };
    expect(() => fetchModule(tampered)).toThrow(
      'istio.io/api@v1.30.8 in ' + path.join(cacheRoot(), 'gomodcache', 'istio.io', 'api@v1.30.8') +
        ': kubernetes/customresourcedefinitions.gen.yaml missing or not matching the sha256 pinned in scripts/crds.ts',
    );
  });

  test('a module whose go.sum hash is not the pinned one is refused', () => {
    const other: PinnedModule = { ...istio130, h1: 'h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', files: [{ path: 'no/such/file.yaml', sha256: '0'.repeat(64) }] };
    expect(() => fetchModule(other)).toThrow(
      'istio.io/api@v1.30.8 has hash h1:/weRNO9YbJsKqFibiGCjXG1i+UwNhJb3vts6ChGR554=, but scripts/crds.ts pins h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
    );
  });

  test('without Go on PATH the error says to install Go or point at a CRD directory', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'crds-nogo-'));
    try {
      withEnv({ PATH: empty }, () => {
        expect(() => fetchModule(istio130, empty)).toThrow(
          'Go is not installed, and the pinned Istio and Gateway API CRDs are Go modules fetched with `go mod download`. Install Go 1.21 or later',
        );
      });
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  test('with the checksum database switched off nothing is downloaded', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'crds-nosumdb-'));
    try {
      withEnv({ GOSUMDB: 'off' }, () => {
        expect(() => fetchModule(istio130, empty)).toThrow("GOSUMDB=off: the CRD modules must be checked against Go's checksum database");
      });
      expect(fs.existsSync(path.join(empty, 'gomodcache', 'istio.io'))).toBe(false);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

function cacheRoot(): string {
  const fromEnv = process.env[CRDS_CACHE_ENV];
  return path.resolve(fromEnv && fromEnv.length > 0 ? fromEnv : path.join(os.homedir(), '.cache', 'cdk8s-istio-egress', 'crds'));
}

/** Runs fn with environment variables set, restoring them afterwards. */
function withEnv(vars: Record<string, string>, fn: () => void): void {
  const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    fn();
  } finally {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) {
        delete process.env[k];
      } else {
        process.env[k] = v;
      }
    }
  }
}
