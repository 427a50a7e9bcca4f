import { ApiObject, Lazy } from 'cdk8s';
import type { EgressWaypointHost } from './waypoint-host';
import { AuthorizationPolicy, AuthorizationPolicySpecAction, AuthorizationPolicySpecRules } from '../../imports/security.istio.io';
import { requireArray, requireInstance, requireString, requireStruct } from '../core/boundary';
import { fieldError, inField } from '../core/errors';
import { authorizationSources, WorkloadIdentity } from '../core/identity';
import { istioObject } from '../core/istio-object';
import { dnsLabelName } from '../core/names';
import { libraryLabels } from '../core/visibility';

/**
 * What one allow rule of a host permits. The rule becomes one AuthorizationPolicy (`action: ALLOW`) attached to the
 * host's ServiceEntry; a request is allowed when it matches any rule of the host.
 */
export interface WaypointAllowOptions {
  /**
   * Who may use the host. At least one: there is no implicit "everyone"; write `WorkloadIdentity.anyInMesh()` to allow
   * every workload with a mesh identity.
   */
  readonly identities: WorkloadIdentity[];

  /**
   * Client ports of the host (ServiceEntry port numbers) the rule allows.
   *
   * @default - every port of the host
   */
  readonly ports?: number[];

  /**
   * HTTP methods allowed, upper case (`GET`). Only on HTTP ports.
   *
   * @default - any method
   */
  readonly methods?: string[];

  /**
   * HTTP paths allowed: exact (`/get`), prefix (`/api/*`), suffix (`*.json`) or `*`. Only on HTTP ports. The query
   * string is not part of the path.
   *
   * @default - any path
   */
  readonly paths?: string[];
}

/**
 * An allow rule for a host named by its host name.
 */
export interface WaypointAllowProps extends WaypointAllowOptions {
  /** The host, exactly as given to `addHost`. */
  readonly host: string;
}

/** The AuthorizationPolicy `when` key for the TLS server name (Istio `pilot/pkg/security/authz/model/model.go`). */
const CONNECTION_SNI = 'connection.sni';

/**
 * Validates an allow rule of `host` and defines its AuthorizationPolicy `<serviceEntryName>-<name>`.
 *
 * @internal
 */
export function addAllowRule(
  host: EgressWaypointHost,
  name: string,
  options: WaypointAllowOptions,
): { policy: ApiObject; identities: WorkloadIdentity[]; key: string } {
  const field = `rule ${JSON.stringify(name)}`;
  options = inField(host, field, () => requireStruct<WaypointAllowOptions>(options, 'WaypointAllowOptions'));
  const identities = inField(host, `${field}.identities`, () =>
    requireArray(options.identities ?? [], {
      element: 'a WorkloadIdentity',
      each: (id) => requireInstance(id, WorkloadIdentity, 'WorkloadIdentity.serviceAccount("shop", "checkout")'),
    }),
  );
  const from = inField(host, `${field}.identities`, () => authorizationSources(identities, host.waypoint.mesh));
  const ports = rulePorts(host, field, options.ports);
  const methods = ruleMethods(host, field, options.methods);
  const paths = rulePaths(host, field, options.paths);
  if (methods || paths) {
    const nonHttp = coveredPorts(host, ports).filter((p) => !p.isHttp);
    if (nonHttp.length > 0) {
      fieldError(
        host,
        methods ? `${field}.methods` : `${field}.paths`,
        `HTTP methods and paths only apply to HTTP ports, but the rule covers ${nonHttp.map((p) => p.toString()).join(', ')} of host "${host.host.name}", where the waypoint cannot see requests ` +
          '(an ALLOW rule with HTTP conditions never matches there); restrict the rule with ports to the HTTP ports, or originate TLS at the waypoint on an HTTP port',
      );
    }
  }
  const policyName = dnsLabelName([host.serviceEntryName, name]);
  host.waypoint._claimName(host, field, 'AuthorizationPolicy', host.namespace, policyName);

  const rule: RuleParts = { from, ports, methods, paths };
  const policy = istioObject(host, `Allow-${name}`, AuthorizationPolicy, {
    metadata: { name: policyName, namespace: host.namespace, labels: libraryLabels(host.waypoint.name) },
    spec: {
      targetRefs: [{ group: 'networking.istio.io', kind: 'ServiceEntry', name: host.serviceEntryName }],
      action: AuthorizationPolicySpecAction.ALLOW,
      // Lazy: the more specific hosts a wildcard's rule must leave out may be added after the rule.
      rules: Lazy.any({ produce: () => renderRules(host, rule) }) as unknown as AuthorizationPolicySpecRules[],
    },
  });
  return { policy, identities, key: JSON.stringify(rule) };
}

interface RuleParts {
  readonly from: any[];
  readonly ports?: number[];
  readonly methods?: string[];
  readonly paths?: string[];
}

/**
 * The AuthorizationPolicy rules of one allow rule.
 *
 * An exact host: one rule, `from` and the operation (ports, methods, paths) as given.
 *
 * A wildcard host (`DYNAMIC_DNS`), whose chain at the waypoint forwards to whatever name the client asks for:
 * - HTTP ports: the route already accepts only `Host`s under the wildcard (`listener_waypoint.go`
 *   `buildRouteVHostDomains`), but a `Host` naming a more specific host of this waypoint (`api.example.com` under
 *   `*.example.com`) would be forwarded there under the wildcard's rule (H2): `to.operation.notHosts` lists every
 *   such host. Istio matches hosts case-insensitively (`matcher.HostMatcher`), and the waypoint's route has no
 *   `ignore_port_in_host_matching`, so a `Host` with a port gets no route at all.
 * - TLS ports: the waypoint picks the chain by address and port only and its SNI forward proxy connects to any SNI
 *   (H1), so the rule gets `when: connection.sni` with `values: [<wildcard>]` (Istio renders `*.example.com` as an
 *   Envoy suffix match on `.example.com`, `matcher.StringMatcherWithPrefix`; Envoy keeps the SNI in lower case) and
 *   `notValues` = the more specific hosts (H2). A ClientHello without SNI matches no value and is denied.
 * A rule covering both kinds of port becomes two rules, each naming its ports: HTTP conditions never match on a TLS
 * port (Istio drops such a rule there), and a TLS server name is never present on plain HTTP.
 */
function renderRules(host: EgressWaypointHost, rule: RuleParts): any[] {
  const { from, ports, methods, paths } = rule;
  if (!host.host.isWildcard) {
    return [{ from, to: operation({ ports, methods, paths }) }];
  }
  const specific = host.waypoint._namesCoveredBy(host.host);
  const covered = coveredPorts(host, ports);
  const httpPorts = covered.filter((p) => p.isHttp).map((p) => p.number);
  const tlsPorts = covered.filter((p) => !p.isHttp).map((p) => p.number);
  const split = httpPorts.length > 0 && tlsPorts.length > 0;
  const rules: any[] = [];
  if (httpPorts.length > 0) {
    rules.push({ from, to: operation({ ports: split ? httpPorts : ports, methods, paths, notHosts: specific }) });
  }
  if (tlsPorts.length > 0) {
    rules.push({
      from,
      to: operation({ ports: split ? tlsPorts : ports }),
      when: [{ key: CONNECTION_SNI, values: [host.host.name], notValues: specific.length > 0 ? specific : undefined }],
    });
  }
  return rules;
}

function operation(o: { ports?: number[]; methods?: string[]; paths?: string[]; notHosts?: string[] }): any[] | undefined {
  const notHosts = o.notHosts && o.notHosts.length > 0 ? o.notHosts : undefined;
  if (!o.ports && !o.methods && !o.paths && !notHosts) {
    return undefined;
  }
  return [{ operation: { ports: o.ports?.map(String), methods: o.methods, paths: o.paths, notHosts } }];
}

/** The ports of `host` a rule covers: those named, else all. */
function coveredPorts(host: EgressWaypointHost, ports: number[] | undefined) {
  return (ports ?? host.ports.map((p) => p.number)).map((n) => host.ports.find((p) => p.number === n)!);
}

function rulePorts(host: EgressWaypointHost, field: string, given: number[] | undefined): number[] | undefined {
  if (given === undefined) {
    return undefined;
  }
  inField(host, `${field}.ports`, () => requireArray(given, { element: 'a port number such as 443' }));
  if (given.length === 0) {
    fieldError(host, `${field}.ports`, 'an empty list allows no port; omit ports to allow every port of the host');
  }
  given.forEach((n, i) => {
    if (!host.ports.some((p) => p.number === n)) {
      fieldError(
        host,
        `${field}.ports[${i}]`,
        `${JSON.stringify(n)} is not a port of host "${host.host.name}" (ports: ${host.ports.map((p) => p.number).join(', ')}); name the client port the ServiceEntry declares`,
      );
    }
    if (given.indexOf(n) !== i) {
      fieldError(host, `${field}.ports[${i}]`, `port ${n} is listed twice; remove the duplicate`);
    }
  });
  return [...given];
}

function ruleMethods(host: EgressWaypointHost, field: string, given: string[] | undefined): string[] | undefined {
  if (given === undefined) {
    return undefined;
  }
  inField(host, `${field}.methods`, () => requireArray(given, { element: 'an HTTP method such as "GET"' }));
  if (given.length === 0) {
    fieldError(host, `${field}.methods`, 'an empty list would allow no method; omit methods to allow every method');
  }
  given.forEach((m, i) => {
    if (typeof m !== 'string' || !/^[A-Z][A-Z-]*$/.test(m)) {
      const fix = typeof m === 'string' && /^[A-Za-z][A-Za-z-]*$/.test(m) ? `write it in upper case ("${m.toUpperCase()}"): methods are compared exactly` : 'give an HTTP method such as "GET"';
      fieldError(host, `${field}.methods[${i}]`, `invalid method ${JSON.stringify(m)}; ${fix}`);
    }
    if (given.indexOf(m) !== i) {
      fieldError(host, `${field}.methods[${i}]`, `method "${m}" is listed twice; remove the duplicate`);
    }
  });
  return [...given];
}

function rulePaths(host: EgressWaypointHost, field: string, given: string[] | undefined): string[] | undefined {
  if (given === undefined) {
    return undefined;
  }
  inField(host, `${field}.paths`, () => requireArray(given, { element: 'a path such as "/get"', each: (p) => requireString(p, '/get') }));
  if (given.length === 0) {
    fieldError(host, `${field}.paths`, 'an empty list would allow no path; omit paths to allow every path');
  }
  given.forEach((p, i) => {
    const problem = pathProblem(p);
    if (problem) {
      fieldError(host, `${field}.paths[${i}]`, `invalid path ${JSON.stringify(p)}: ${problem}`);
    }
    if (given.indexOf(p) !== i) {
      fieldError(host, `${field}.paths[${i}]`, `path "${p}" is listed twice; remove the duplicate`);
    }
  });
  return [...given];
}

/** Why `path` is not an AuthorizationPolicy path Istio matches, or undefined. */
function pathProblem(path: string): string | undefined {
  if (typeof path !== 'string' || path.length === 0) {
    return 'a path must be a non-empty string such as "/get"';
  }
  if (/\s/.test(path)) {
    return 'a path must not contain white space';
  }
  if (path.includes('?') || path.includes('#')) {
    return 'the path Istio matches never contains the query string or fragment; remove everything from "?" or "#"';
  }
  if (!path.startsWith('/') && !path.startsWith('*')) {
    return 'start it with "/" (exact or prefix match) or "*" (suffix match)';
  }
  const inner = path.replace(/\{\*\*?\}/g, '').slice(1, -1);
  if (path.length > 1 && inner.includes('*')) {
    return 'a "*" is only allowed as the first or last character (suffix or prefix match), or as a whole segment "{*}" / "{**}"';
  }
  return undefined;
}
