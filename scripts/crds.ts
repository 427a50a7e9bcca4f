/**
 * The pinned CustomResourceDefinitions that `imports/` is generated from and that the tests validate every
 * synthesized object against. One home for "which CRDs, which kinds, which versions".
 *
 * The CRD files are not part of this repository. They are upstream files inside two Go modules, fetched by name and
 * exact version with the ordinary Go client (`go mod download`), which checks each module against Go's checksum
 * database; then every file used is checked against the sha256 pinned below. They are cached outside the tree, in
 * $ISTIO_EGRESS_CRDS_CACHE_DIR (default ~/.cache/cdk8s-istio-egress/crds), so only the first run downloads
 * (~1 MB per module).
 *
 * - Istio: `istio.io/api`, file `kubernetes/customresourcedefinitions.gen.yaml` (the same bytes as istio/istio's
 *   `manifests/charts/base/files/crd-all.gen.yaml` of that release), one version per supported minor.
 * - Gateway API: `sigs.k8s.io/gateway-api`, the standard channel `config/crd/standard/*.yaml`.
 *
 * ISTIO_EGRESS_CRDS_DIR=/path/to/dir replaces all of this with the `*.yaml` files of one directory (e.g. the CRDs of an
 * Istio version outside the window); nothing is fetched then.
 */
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';

/** Environment variable that replaces the pinned CRDs with the `*.yaml` files of one directory. */
export const CRDS_DIR_ENV = 'ISTIO_EGRESS_CRDS_DIR';

/** Environment variable that moves the download cache (a Go module cache) elsewhere. */
export const CRDS_CACHE_ENV = 'ISTIO_EGRESS_CRDS_CACHE_DIR';

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

/** One file inside a Go module, with the sha256 of its bytes. */
export interface PinnedFile {
  readonly path: string;
  readonly sha256: string;
}

/** A Go module at an exact version (its `h1:` hash as go.sum would hold it) and the CRD files used from it. */
export interface PinnedModule {
  readonly module: string;
  readonly version: string;
  readonly h1: string;
  readonly files: ReadonlyArray<PinnedFile>;
}

/** The CRDs of one supported Istio minor: Istio's own and the Gateway API's. */
export interface CrdSet {
  /** `1.30`: the Istio minor these CRDs belong to (or the override directory). */
  readonly name: string;
  readonly modules: ReadonlyArray<PinnedModule>;
}

/**
 * The Gateway API standard channel, v1.5.1: the release Istio 1.30 builds against (its go.mod). Users install the
 * Gateway API CRDs themselves; the one Gateway API kind this library emits is the standard `Gateway` v1 (ambient
 * waypoints).
 */
const GATEWAY_API: PinnedModule = {
  module: 'sigs.k8s.io/gateway-api',
  version: 'v1.5.1',
  h1: 'h1:RqVRIlkhLhUO8wOHKTLnTJA6o/1un4po4/6M1nRzdd0=',
  files: [
    ['backendtlspolicies', '9b8818172153d72f9c84032db0be0a4a657277d13f5bbc22226ad9481ff57971'],
    ['gatewayclasses', '234ad4b2757ee1b3596a4187bb98df071c5bbdd9e1806f692f2dbf8387e6bef4'],
    ['gateways', '7416e8300eb4d8c0a71a23445609075bbacbe8bc80104584b019cfe1ebe77c31'],
    ['grpcroutes', '979f4125d44d3df24659ba00d1d04ff8e76c45423193e8aae82dd5810d7827df'],
    ['httproutes', '682203b109baecb18d38073a578f7bc2c17d22fe9b0c27bf030850abe014c370'],
    ['listenersets', '9221468d19fdfbb0026113b1ef64abac64f27607975aff2410361b8b38f0e0bb'],
    ['referencegrants', 'a8902c486eed0b7339f5bb8a476ccaba0918eb038048402bdc01cbb69b0fbb51'],
    ['tlsroutes', '818e4827c469a40e2527a2851591e656782c50fea8dd44812c900d219da09345'],
  ].map(([kind, sha256]) => ({ path: `config/crd/standard/gateway.networking.k8s.io_${kind}.yaml`, sha256 })),
};

function istioApi(version: string, h1: string, sha256: string): PinnedModule {
  return { module: 'istio.io/api', version, h1, files: [{ path: 'kubernetes/customresourcedefinitions.gen.yaml', sha256 }] };
}

/**
 * The Istio support window, oldest first: per minor the newest `istio.io/api` patch release the Go module proxy
 * serves (`go list -m -versions istio.io/api`). Keep in step with IstioVersion (src/core/istio-version.ts).
 * v1.30.8's CRD file is byte-identical to v1.30.3's (the release UDS Core pins).
 */
export const CRD_SETS: ReadonlyArray<CrdSet> = [
  {
    name: '1.30',
    modules: [istioApi('v1.30.8', 'h1:/weRNO9YbJsKqFibiGCjXG1i+UwNhJb3vts6ChGR554=', 'dcb43ff6b9af2f629b80b6a82597f5a91db259c757e66cc5353ac007da28351a'), GATEWAY_API],
  },
  {
    name: '1.31',
    modules: [istioApi('v1.31.4', 'h1:AcnncYrlDj1PJkym7h88Gggkef4MAra8QpGaXRMsr+E=', 'c0ad59e008658765412badb836e73a523a355e3d792a32ad3c0711a728be5aff'), GATEWAY_API],
  },
  {
    name: '1.32',
    modules: [istioApi('v1.32.0', 'h1:37mJvg9I0biYZAEQF+MATs4FNeCpXEIVO3LFpVb6iNM=', 'c65d3908ee5eefea7cb5f3baad2622455fd7b483e920ee428500b44da73f2601'), GATEWAY_API],
  },
];

/**
 * The set `imports/` is generated from: the oldest supported minor, so the generated classes offer only fields every
 * supported Istio accepts (newer minors only add fields).
 */
export const IMPORTS_SET: CrdSet = CRD_SETS[0];

/** The directory named by $ISTIO_EGRESS_CRDS_DIR, or undefined when the pinned CRDs are used. */
export function overrideDir(): string | undefined {
  const fromEnv = process.env[CRDS_DIR_ENV];
  return fromEnv && fromEnv.length > 0 ? path.resolve(fromEnv) : undefined;
}

/** The download cache: $ISTIO_EGRESS_CRDS_CACHE_DIR, else ~/.cache/cdk8s-istio-egress/crds. */
export function cacheDir(): string {
  const fromEnv = process.env[CRDS_CACHE_ENV];
  return path.resolve(fromEnv && fromEnv.length > 0 ? fromEnv : path.join(os.homedir(), '.cache', 'cdk8s-istio-egress', 'crds'));
}

function sha256Of(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Where the Go module cache keeps a module version (module paths escape upper-case letters as `!x`). */
function moduleDirIn(modCache: string, m: PinnedModule): string {
  const escaped = `${m.module}@${m.version}`.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
  return path.join(modCache, ...escaped.split('/'));
}

/** The files of a module version that are missing or do not match their pinned sha256 ([] when all match). */
function badFiles(dir: string, m: PinnedModule): string[] {
  return m.files
    .filter((f) => {
      const file = path.join(dir, ...f.path.split('/'));
      return !fs.existsSync(file) || sha256Of(file) !== f.sha256;
    })
    .map((f) => f.path);
}

function go(args: string[], env: NodeJS.ProcessEnv, cwd: string): string {
  try {
    return execFileSync('go', args, { env, cwd, encoding: 'utf-8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024 });
  } catch (e: any) {
    if (e.code === 'ENOENT') {
      throw new Error(
        'Go is not installed, and the pinned Istio and Gateway API CRDs are Go modules fetched with `go mod download`. ' +
          `Install Go 1.21 or later (https://go.dev/doc/install) and put 'go' on PATH, or set ${CRDS_DIR_ENV}=/path/to/crds ` +
          'to a directory holding the CRD YAML files.',
      );
    }
    // `go mod download -json` reports a module's error in its JSON output and exits 1.
    if (typeof e.stdout === 'string' && e.stdout.trim().startsWith('{')) {
      return e.stdout;
    }
    throw new Error(`go ${args.join(' ')} failed: ${(e.stderr || e.message || '').toString().trim()}`);
  }
}

/**
 * The directory of a pinned module version in the cache, downloaded with `go mod download` when it is not there yet
 * (checked against Go's checksum database and the pinned `h1:` hash), with every used file checked against its
 * pinned sha256. Throws a message that names the module and what to do.
 */
export function fetchModule(m: PinnedModule, cache: string = cacheDir()): string {
  const modCache = path.join(cache, 'gomodcache');
  const known = moduleDirIn(modCache, m);
  if (fs.existsSync(known) && badFiles(known, m).length === 0) {
    return known;
  }
  fs.mkdirSync(cache, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GOMODCACHE: modCache,
    // -modcacherw: the cache can be deleted with rm -rf.
    GOFLAGS: '-mod=mod -modcacherw',
    GOTOOLCHAIN: 'local',
    GOWORK: 'off',
    GO111MODULE: 'on',
    // Nothing of the two modules may skip the checksum database.
    GONOSUMDB: '',
    GOPRIVATE: '',
    GONOPROXY: '',
    GOINSECURE: '',
  };
  const sumdb = go(['env', 'GOSUMDB'], env, cache).trim();
  if (sumdb === 'off') {
    throw new Error(
      'GOSUMDB=off: the CRD modules must be checked against Go\'s checksum database when they are downloaded. ' +
        `Unset GOSUMDB (or set ${CRDS_DIR_ENV}=/path/to/crds to use CRD files you checked yourself).`,
    );
  }
  const out = go(['mod', 'download', '-json', `${m.module}@${m.version}`], env, cache);
  const info = JSON.parse(out);
  if (info.Error) {
    throw new Error(`go mod download ${m.module}@${m.version} failed: ${info.Error}`);
  }
  if (info.Sum !== m.h1) {
    throw new Error(`${m.module}@${m.version} has hash ${info.Sum}, but scripts/crds.ts pins ${m.h1}; the download is not the pinned release`);
  }
  const dir: string = info.Dir;
  const bad = badFiles(dir, m);
  if (bad.length > 0) {
    throw new Error(`${m.module}@${m.version} in ${dir}: ${bad.join(', ')} missing or not matching the sha256 pinned in scripts/crds.ts`);
  }
  return dir;
}

/** The CRD files of a set, fetched and verified: absolute paths. */
export function crdFiles(set: CrdSet, cache: string = cacheDir()): string[] {
  return set.modules.flatMap((m) => {
    const dir = fetchModule(m, cache);
    return m.files.map((f) => path.join(dir, ...f.path.split('/')));
  });
}

/** Every CustomResourceDefinition document in the given YAML files. */
function crdsOfFiles(files: string[], where: string): any[] {
  const crds: any[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(fs.readFileSync(file, 'utf-8'))) {
      const obj = doc.toJS();
      if (obj && obj.kind === 'CustomResourceDefinition') {
        crds.push(obj);
      }
    }
  }
  if (crds.length === 0) {
    throw new Error(`${where} holds no CustomResourceDefinition; set ${CRDS_DIR_ENV} to a directory that does, or unset it to use the pinned CRDs.`);
  }
  return crds;
}

/** Every CustomResourceDefinition document in a directory (all `*.yaml` / `*.yml` files, sorted by name). */
export function loadCrdsFromDir(dir: string): any[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new Error(
      `CRD directory "${dir}" (${CRDS_DIR_ENV}) not found. Unset ${CRDS_DIR_ENV} to use the pinned Istio and Gateway API CRDs ` +
        '(fetched with Go), or point it at a directory of CRD YAML files.',
    );
  }
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  return crdsOfFiles(files.map((f) => path.join(dir, f)), `CRD directory "${dir}"`);
}

/** The CRDs of one set (fetched and verified). */
export function loadCrdSet(set: CrdSet): any[] {
  return crdsOfFiles(crdFiles(set), `CRD set ${set.name}`);
}

/**
 * The CRDs the schema checks run against, one entry per supported Istio minor: [{ name: '1.30', crds }, ...].
 * With $ISTIO_EGRESS_CRDS_DIR set: that directory only.
 */
export function schemaCrdSets(): Array<{ name: string; crds: any[] }> {
  const dir = overrideDir();
  if (dir) {
    return [{ name: dir, crds: loadCrdsFromDir(dir) }];
  }
  return CRD_SETS.map((set) => ({ name: set.name, crds: loadCrdSet(set) }));
}

/** Every CRD `imports/` is generated from: the oldest supported minor's, or $ISTIO_EGRESS_CRDS_DIR's. */
export function loadAllCrds(): any[] {
  const dir = overrideDir();
  return dir ? loadCrdsFromDir(dir) : loadCrdSet(IMPORTS_SET);
}

/** What `imports/` is generated from, for messages: `istio.io/api@v1.30.8, sigs.k8s.io/gateway-api@v1.5.1` or the directory. */
export function importsSource(): string {
  return overrideDir() ?? IMPORTS_SET.modules.map((m) => `${m.module}@${m.version}`).join(', ');
}

/**
 * The CRDs of USED_KINDS, each reduced to the one version the library uses (marked served + storage), in
 * USED_KINDS order. Throws if a kind or version is missing.
 */
export function loadUsedCrds(all: any[] = loadAllCrds()): any[] {
  const where = importsSource();
  return USED_KINDS.map(({ group, kind, version }) => {
    const crd = all.find((c) => c.spec?.group === group && c.spec?.names?.kind === kind);
    if (!crd) {
      throw new Error(`CRD for ${kind}.${group} not found in ${where}`);
    }
    const v = (crd.spec.versions ?? []).find((x: any) => x.name === version);
    if (!v) {
      throw new Error(`CRD ${kind}.${group} in ${where} has no version ${version}`);
    }
    return {
      apiVersion: crd.apiVersion,
      kind: crd.kind,
      metadata: { name: crd.metadata.name },
      spec: { ...crd.spec, versions: [{ ...v, served: true, storage: true }] },
    };
  });
}
