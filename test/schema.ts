/**
 * Validates synthesized objects against the OpenAPI v3 schemas of the CRDs of every supported Istio minor
 * (scripts/crds.ts: 1.30, 1.31 and 1.32, fetched with Go; or the one directory $ISTIO_EGRESS_CRDS_DIR), the way the API
 * server's strict field validation would: unknown fields are errors, `x-kubernetes-int-or-string` accepts both,
 * `x-kubernetes-preserve-unknown-fields` objects stay open.
 *
 * Not covered here: the CRDs' CEL rules (`x-kubernetes-validations`). Istio's own validator covers more.
 */
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { Testing, Chart } from 'cdk8s';
import { overrideDir, schemaCrdSets } from '../scripts/crds';

/** API groups whose objects must have a CRD schema; anything else (core Kubernetes kinds) is not checked here. */
const CRD_GROUPS = new Set(['networking.istio.io', 'security.istio.io', 'telemetry.istio.io', 'extensions.istio.io', 'gateway.networking.k8s.io']);

/** The schemas of one CRD set, compiled on first use (most tests use a handful of the ~40 kinds). */
interface SchemaSet {
  readonly label: string;
  readonly schemas: Map<string, any>;
  readonly validators: Map<string, ValidateFunction>;
  readonly notServed: Set<string>;
  readonly ajv: Ajv;
}

let sets: SchemaSet[] | undefined;

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

function newAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
  addFormats(ajv);
  for (const f of ['int32', 'int64', 'double', 'byte', 'float']) {
    ajv.addFormat(f, true);
  }
  return ajv;
}

function build(): SchemaSet[] {
  return schemaCrdSets().map(({ name, crds }) => {
    const schemas = new Map<string, any>();
    const notServed = new Set<string>();
    for (const crd of crds) {
      for (const version of crd.spec.versions ?? []) {
        const key = `${crd.spec.group}/${version.name}/${crd.spec.names.kind}`;
        if (version.served) {
          schemas.set(key, version.schema?.openAPIV3Schema ?? { type: 'object' });
        } else {
          notServed.add(key);
        }
      }
    }
    const label = overrideDir() ? `CRDs in ${name}` : `Istio ${name} CRDs`;
    return { label, schemas, validators: new Map(), notServed, ajv: newAjv() };
  });
}

function validatorFor(set: SchemaSet, key: string): ValidateFunction | undefined {
  let validate = set.validators.get(key);
  if (!validate && set.schemas.has(key)) {
    const body = toStrictSchema(set.schemas.get(key));
    body.properties = {
      ...(body.properties ?? {}),
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
    };
    body.additionalProperties = false;
    validate = set.ajv.compile(body);
    set.validators.set(key, validate);
  }
  return validate;
}

/** The problems of one object against one CRD set. */
function problemsIn(set: SchemaSet, obj: any, key: string, where: string): string[] {
  const validate = validatorFor(set, key);
  if (!validate) {
    return [`${where}: no served CRD version for ${key}${set.notServed.has(key) ? ' (that version is not served)' : ''}`];
  }
  if (validate(obj)) {
    return [];
  }
  return (validate.errors ?? []).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` "${(e.params as any).additionalProperty}"` : '';
    return `${where}: ${e.instancePath || '/'} ${e.message}${extra}`;
  });
}

/** The names of the CRD sets every object is checked against: `Istio 1.30 CRDs`, ... */
export function schemaSetLabels(): string[] {
  sets = sets ?? build();
  return sets.map((s) => s.label);
}

/**
 * Returns the schema problems of one object ([] when valid) against the CRDs of every supported Istio minor. A
 * problem found in every set reads as before; one found in only some names them, e.g.
 * `... must NOT have additional properties "x" (Istio 1.30 CRDs)`. Objects of core Kubernetes groups are not
 * checked. An Istio or Gateway API object of a kind or version with no served CRD version is a problem.
 */
export function schemaProblems(obj: any): string[] {
  sets = sets ?? build();
  const apiVersion: string = obj?.apiVersion ?? '';
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  if (!CRD_GROUPS.has(group)) {
    return [];
  }
  const key = `${apiVersion}/${obj.kind}`;
  const where = `${obj.kind} ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
  const foundIn = new Map<string, string[]>();
  for (const set of sets) {
    for (const problem of problemsIn(set, obj, key, where)) {
      foundIn.set(problem, [...(foundIn.get(problem) ?? []), set.label]);
    }
  }
  return [...foundIn.entries()].map(([problem, labels]) => (labels.length === sets!.length ? problem : `${problem} (${labels.join(', ')})`));
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
