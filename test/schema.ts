/**
 * Validates synthesized objects against the OpenAPI v3 schemas of the pinned CRDs (../shared/crds, or
 * $ISTIO_EGRESS_CRDS_DIR), the way the API server's strict field validation would: unknown fields are errors,
 * `x-kubernetes-int-or-string` accepts both, `x-kubernetes-preserve-unknown-fields` objects stay open.
 *
 * Not covered here: the CRDs' CEL rules (`x-kubernetes-validations`). Istio's own validator covers more.
 */
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { Testing, Chart } from 'cdk8s';
import { loadAllCrds } from '../scripts/crds';

/** API groups whose objects must have a CRD schema; anything else (core Kubernetes kinds) is not checked here. */
const CRD_GROUPS = new Set(['networking.istio.io', 'security.istio.io', 'telemetry.istio.io', 'extensions.istio.io', 'gateway.networking.k8s.io']);

let validators: Map<string, ValidateFunction> | undefined;
let servedButUnknown: Set<string>;

/** Rewrites a CRD schema into plain JSON schema with strict objects. */
function toStrictSchema(schema: any): any {
  if (Array.isArray(schema)) {
    return schema.map(toStrictSchema);
  }
  if (schema === null || typeof schema !== 'object') {
    return schema;
  }
  const out: any = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'x-kubernetes-validations') {
      continue;
    }
    out[k] = ['properties', 'patternProperties', 'definitions'].includes(k)
      ? Object.fromEntries(Object.entries(v as any).map(([pk, pv]) => [pk, toStrictSchema(pv)]))
      : toStrictSchema(v);
  }
  if (out['x-kubernetes-int-or-string']) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (out.properties && !out['x-kubernetes-preserve-unknown-fields'] && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

function build(): Map<string, ValidateFunction> {
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
  addFormats(ajv);
  for (const f of ['int32', 'int64', 'double', 'byte', 'float']) {
    ajv.addFormat(f, true);
  }
  const map = new Map<string, ValidateFunction>();
  servedButUnknown = new Set();
  for (const crd of loadAllCrds()) {
    for (const version of crd.spec.versions ?? []) {
      const key = `${crd.spec.group}/${version.name}/${crd.spec.names.kind}`;
      if (!version.served) {
        servedButUnknown.add(key);
        continue;
      }
      const body = toStrictSchema(version.schema?.openAPIV3Schema ?? { type: 'object' });
      body.properties = {
        ...(body.properties ?? {}),
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { type: 'object' },
      };
      body.additionalProperties = false;
      map.set(key, ajv.compile(body));
    }
  }
  return map;
}

/**
 * Returns the schema problems of one object ([] when valid). Objects of core Kubernetes groups are not checked.
 * An Istio or Gateway API object of a kind or version with no served CRD version is a problem.
 */
export function schemaProblems(obj: any): string[] {
  validators = validators ?? build();
  const apiVersion: string = obj?.apiVersion ?? '';
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  if (!CRD_GROUPS.has(group)) {
    return [];
  }
  const key = `${apiVersion}/${obj.kind}`;
  const validate = validators.get(key);
  const where = `${obj.kind} ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
  if (!validate) {
    return [`${where}: no served CRD version for ${key}${servedButUnknown.has(key) ? ' (that version is not served)' : ''}`];
  }
  if (validate(obj)) {
    return [];
  }
  return (validate.errors ?? []).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` "${(e.params as any).additionalProperty}"` : '';
    return `${where}: ${e.instancePath || '/'} ${e.message}${extra}`;
  });
}

/** Throws with every schema problem of every object. */
export function expectSchemaValid(objects: any[]): void {
  const problems = objects.flatMap(schemaProblems);
  if (problems.length > 0) {
    throw new Error(`objects do not match their CRD schemas:\n  ${problems.join('\n  ')}`);
  }
}

/**
 * Synthesizes a chart and validates every object against its CRD schema. Every construct test uses this instead
 * of Testing.synth.
 */
export function synthValid(chart: Chart): any[] {
  const objects = Testing.synth(chart);
  expectSchemaValid(objects);
  return objects;
}
