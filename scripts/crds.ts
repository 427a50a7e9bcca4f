/**
 * Loads the pinned CustomResourceDefinitions that `imports/` is generated from and that the tests validate
 * every synthesized object against. One home for "which CRDs, which kinds, which versions".
 *
 * The CRD files are not part of this repository: they are read from `../shared/crds` beside the checkout,
 * or from the directory named by the ISTIO_EGRESS_CRDS_DIR environment variable (e.g. upstream files of another
 * Istio version).
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';

/** Environment variable that overrides where the CRD YAML files are read from. */
export const CRDS_DIR_ENV = 'ISTIO_EGRESS_CRDS_DIR';

/** The API kinds (and the single version of each) that this library generates classes for and emits. */
export const USED_KINDS: ReadonlyArray<{ group: string; kind: string; version: string }> = [
  { group: 'networking.istio.io', kind: 'DestinationRule', version: 'v1' },
  { group: 'networking.istio.io', kind: 'Gateway', version: 'v1' },
  { group: 'networking.istio.io', kind: 'ServiceEntry', version: 'v1' },
  { group: 'networking.istio.io', kind: 'Sidecar', version: 'v1' },
  { group: 'networking.istio.io', kind: 'VirtualService', version: 'v1' },
  { group: 'networking.istio.io', kind: 'EnvoyFilter', version: 'v1alpha3' },
  { group: 'security.istio.io', kind: 'AuthorizationPolicy', version: 'v1' },
  { group: 'security.istio.io', kind: 'PeerAuthentication', version: 'v1' },
  { group: 'telemetry.istio.io', kind: 'Telemetry', version: 'v1' },
  { group: 'gateway.networking.k8s.io', kind: 'Gateway', version: 'v1' },
];

/** Where the CRDs are read from: $ISTIO_EGRESS_CRDS_DIR, else ../shared/crds beside the repository. */
export function crdsDir(): string {
  const fromEnv = process.env[CRDS_DIR_ENV];
  return path.resolve(fromEnv && fromEnv.length > 0 ? fromEnv : path.join(__dirname, '..', '..', 'shared', 'crds'));
}

/**
 * Every CustomResourceDefinition document in the CRD directory (all `*.yaml` / `*.yml` files, sorted by name).
 * Throws a message that says how to point at a CRD directory when there is none.
 */
export function loadAllCrds(dir: string = crdsDir()): any[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new Error(
      `CRD directory "${dir}" not found. The pinned Istio and Gateway API CRDs are expected in ../shared/crds beside ` +
        `this repository; set ${CRDS_DIR_ENV}=/path/to/crds to use another directory (e.g. upstream ` +
        'manifests/charts/base/files/crd-all.gen.yaml and the gateway-api standard CRDs).',
    );
  }
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  const crds: any[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf-8'))) {
      const obj = doc.toJS();
      if (obj && obj.kind === 'CustomResourceDefinition') {
        crds.push(obj);
      }
    }
  }
  if (crds.length === 0) {
    throw new Error(`CRD directory "${dir}" holds no CustomResourceDefinition; set ${CRDS_DIR_ENV} to a directory that does.`);
  }
  return crds;
}

/**
 * The CRDs of USED_KINDS, each reduced to the one version the library uses (marked served + storage), in
 * USED_KINDS order. Throws if a kind or version is missing.
 */
export function loadUsedCrds(dir: string = crdsDir()): any[] {
  const all = loadAllCrds(dir);
  return USED_KINDS.map(({ group, kind, version }) => {
    const crd = all.find((c) => c.spec?.group === group && c.spec?.names?.kind === kind);
    if (!crd) {
      throw new Error(`CRD for ${kind}.${group} not found in ${dir}`);
    }
    const v = (crd.spec.versions ?? []).find((x: any) => x.name === version);
    if (!v) {
      throw new Error(`CRD ${kind}.${group} in ${dir} has no version ${version}`);
    }
    return {
      apiVersion: crd.apiVersion,
      kind: crd.kind,
      metadata: { name: crd.metadata.name },
      spec: { ...crd.spec, versions: [{ ...v, served: true, storage: true }] },
    };
  });
}
