import { IConstruct } from 'constructs';
import { fieldError } from './errors';
import { ExternalHost, HostExemption, properSuffixes } from './host';
import { MeshSettings } from './mesh';

/**
 * Which hosts an egress path refuses by default, and why: names that lead into the cluster or to cloud metadata
 * (finding M3 of the December 2026 review) and wildcards that anyone can register a name under (finding L5).
 *
 * The lists below are written for this library (not copied from the Public Suffix List): they name the suffixes
 * and provider domains where a wildcard would admit other people's endpoints, and the resolver and metadata names
 * that reach inside. They are deliberately short; a domain that is not listed is not thereby safe, which the README
 * says.
 */

/**
 * Top-level domains reserved for private or special use: names under them never belong to an external service.
 * `internal` (ICANN 2024, private use: `metadata.google.internal`, `*.ec2.internal`), `local` (mDNS, RFC 6762; also
 * Kubernetes' default cluster domain), `localhost` (RFC 6761), `localdomain`, `arpa` (infrastructure, e.g.
 * `home.arpa` RFC 8375 and reverse zones), `svc` (Kubernetes Service names, `<svc>.<ns>.svc`), and the private-use
 * labels RFC 6762 Appendix G lists as in use on private networks (`intranet`, `internal`, `private`, `corp`, `home`,
 * `lan`).
 */
const PRIVATE_TOP_LEVEL_DOMAINS = new Map<string, string>([
  ['internal', 'is reserved for private networks, where cloud metadata services (metadata.google.internal, instance-data.ec2.internal) and VPC-internal names live'],
  ['local', 'is for names on the local network (mDNS) and is the default Kubernetes cluster domain'],
  ['localhost', 'always means this machine (RFC 6761)'],
  ['localdomain', 'is the local machine\'s domain on many systems'],
  ['arpa', 'holds infrastructure names (home.arpa for home networks, reverse lookup zones), not services'],
  ['svc', 'is how Kubernetes names Services (<service>.<namespace>.svc), resolved through the pod\'s search path'],
  ['intranet', 'is a private-use name (RFC 6762 Appendix G)'],
  ['private', 'is a private-use name (RFC 6762 Appendix G)'],
  ['corp', 'is a private-use name (RFC 6762 Appendix G)'],
  ['home', 'is a private-use name (RFC 6762 Appendix G)'],
  ['lan', 'is a private-use name (RFC 6762 Appendix G)'],
]);

/** Names of cloud instance metadata services outside the private top-level domains (which cover the others). */
const METADATA_NAMES = new Map<string, string>([
  ['metadata.goog', 'Google Cloud'],
  ['metadata.tencentyun.com', 'Tencent Cloud'],
  ['metadata.platformequinix.com', 'Equinix Metal'],
]);

/**
 * Public DNS services that answer a name with the IP address written in it (`169.254.169.254.nip.io` resolves to
 * 169.254.169.254, `127.0.0.1.sslip.io` to 127.0.0.1): a name under them reaches whatever address it spells.
 */
const ADDRESS_ECHO_DOMAINS = ['nip.io', 'sslip.io', 'xip.io', 'traefik.me', 'localtest.me', 'lvh.me', 'vcap.me', 'localho.st', 'lacolhost.com'];

/**
 * Public suffixes of more than one label (second-level registries): anyone can register a name directly under
 * them, as under a top-level domain. Single-label top-level domains need no list: a wildcard needs at least two
 * labels after `*`.
 */
const MULTI_LABEL_PUBLIC_SUFFIXES = new Set([
  'co.uk', 'org.uk', 'me.uk', 'ltd.uk', 'plc.uk', 'net.uk', 'ac.uk', 'gov.uk',
  'com.au', 'net.au', 'org.au', 'edu.au', 'gov.au', 'id.au',
  'co.nz', 'net.nz', 'org.nz',
  'co.jp', 'ne.jp', 'or.jp', 'ac.jp', 'go.jp',
  'co.kr', 'or.kr', 'ne.kr',
  'com.cn', 'net.cn', 'org.cn', 'gov.cn',
  'com.hk', 'com.tw', 'com.sg', 'com.my', 'com.ph', 'co.th', 'co.id', 'com.vn',
  'co.in', 'net.in', 'org.in', 'firm.in', 'gen.in', 'ind.in',
  'com.br', 'net.br', 'org.br',
  'com.mx', 'com.ar', 'com.co', 'com.pe', 'com.uy', 'com.ve',
  'co.za', 'co.il', 'org.il', 'co.ke', 'com.ng', 'com.eg',
  'com.tr', 'com.ua', 'com.pl', 'com.ru', 'com.de', 'com.es', 'co.at', 'or.at',
  'eu.org', 'us.com', 'uk.com', 'eu.com',
]);

/**
 * Provider domains where any customer creates names directly below the domain (one tenant per name): a wildcard
 * at the domain admits every tenant; a wildcard under one tenant's name (`*.my-site.github.io`) does not.
 */
const MULTI_TENANT_DOMAINS = new Map<string, string>([
  ['cloudfront.net', 'any AWS customer\'s CloudFront distribution'],
  ['awsapps.com', 'any AWS customer\'s directory and WorkDocs sites'],
  ['on.aws', 'any AWS customer\'s Lambda function URLs and App Runner services'],
  ['azurewebsites.net', 'any Azure customer\'s App Service'],
  ['cloudapp.net', 'any Azure customer\'s cloud service'],
  ['azureedge.net', 'any Azure CDN endpoint'],
  ['azurefd.net', 'any Azure Front Door endpoint'],
  ['azurestaticapps.net', 'any Azure Static Web App'],
  ['azurecr.io', 'any Azure container registry'],
  ['trafficmanager.net', 'any Azure Traffic Manager profile'],
  ['appspot.com', 'any Google App Engine app'],
  ['run.app', 'any Google Cloud Run service'],
  ['web.app', 'any Firebase Hosting site'],
  ['firebaseapp.com', 'any Firebase project'],
  ['firebaseio.com', 'any Firebase Realtime Database'],
  ['cloudfunctions.net', 'any Google Cloud Function'],
  ['github.io', 'any GitHub user\'s Pages site'],
  ['githubusercontent.com', 'content any GitHub user uploads'],
  ['gitlab.io', 'any GitLab user\'s Pages site'],
  ['bitbucket.io', 'any Bitbucket user\'s site'],
  ['herokuapp.com', 'any Heroku app'],
  ['netlify.app', 'any Netlify site'],
  ['vercel.app', 'any Vercel deployment'],
  ['now.sh', 'any Vercel deployment'],
  ['pages.dev', 'any Cloudflare Pages site'],
  ['workers.dev', 'any Cloudflare Worker'],
  ['r2.dev', 'any Cloudflare R2 bucket'],
  ['trycloudflare.com', 'any Cloudflare quick tunnel'],
  ['fly.dev', 'any Fly.io app'],
  ['onrender.com', 'any Render service'],
  ['railway.app', 'any Railway app'],
  ['glitch.me', 'any Glitch project'],
  ['repl.co', 'any Replit project'],
  ['surge.sh', 'any Surge site'],
  ['ngrok.io', 'any ngrok tunnel'],
  ['ngrok.app', 'any ngrok tunnel'],
  ['ngrok.dev', 'any ngrok tunnel'],
  ['ngrok-free.app', 'any ngrok tunnel'],
  ['loca.lt', 'any localtunnel tunnel'],
  ['serveo.net', 'any Serveo tunnel'],
  ['blogspot.com', 'any Blogger blog'],
  ['wordpress.com', 'any WordPress.com site'],
  ['myshopify.com', 'any Shopify shop'],
  ['pythonanywhere.com', 'any PythonAnywhere app'],
  ['ondigitalocean.app', 'any DigitalOcean App Platform app'],
  ['supabase.co', 'any Supabase project'],
  ['duckdns.org', 'any dynamic DNS name'],
  ['ddns.net', 'any dynamic DNS name'],
  ['hopto.org', 'any dynamic DNS name'],
  ['afraid.org', 'any dynamic DNS name'],
  ['pipedream.net', 'any request-capture endpoint'],
  ['webhook.site', 'any request-capture endpoint'],
  ['burpcollaborator.net', 'any out-of-band testing endpoint'],
  ['oastify.com', 'any out-of-band testing endpoint'],
  ['interact.sh', 'any out-of-band testing endpoint'],
]);

/**
 * Provider domains where customers' names sit at any depth below the domain (`<bucket>.s3.<region>.amazonaws.com`,
 * `<account>.blob.core.windows.net`): every wildcard at or under them admits other customers' endpoints.
 */
const DEEP_MULTI_TENANT_DOMAINS = new Map<string, string>([
  ['amazonaws.com', 'any AWS customer\'s S3 buckets, API gateways, load balancers and instances'],
  ['windows.net', 'any Azure customer\'s storage accounts, databases and service buses'],
  ['azure.com', 'any Azure customer\'s VMs, containers, API Management and cognitive services'],
  ['azure-api.net', 'any Azure API Management instance'],
  ['googleapis.com', 'Google APIs that serve any customer\'s data (storage.googleapis.com serves every Cloud Storage bucket)'],
  ['googleusercontent.com', 'content and VMs of any Google Cloud customer'],
  ['digitaloceanspaces.com', 'any DigitalOcean Spaces bucket'],
  ['linodeobjects.com', 'any Linode object storage bucket'],
  ['backblazeb2.com', 'any Backblaze B2 bucket'],
  ['wasabisys.com', 'any Wasabi bucket'],
  ['cloudflarestorage.com', 'any Cloudflare R2 bucket'],
  ['oraclecloud.com', 'any Oracle Cloud customer\'s object storage and functions'],
  ['fastly.net', 'any Fastly customer\'s service'],
  ['akamaized.net', 'any Akamai customer\'s content'],
  ['edgekey.net', 'any Akamai customer\'s hostname'],
  ['edgesuite.net', 'any Akamai customer\'s hostname'],
  ['oast.fun', 'any out-of-band testing endpoint'],
  ['oast.pro', 'any out-of-band testing endpoint'],
  ['oast.me', 'any out-of-band testing endpoint'],
  ['oast.site', 'any out-of-band testing endpoint'],
  ['oast.live', 'any out-of-band testing endpoint'],
  ['oast.online', 'any out-of-band testing endpoint'],
]);

/**
 * What the host check of a construct knows about the cluster it runs in.
 *
 * @internal
 */
export interface HostRiskContext {
  /** The mesh settings of the construct (cluster domain, root and istiod namespaces). */
  readonly mesh: MeshSettings;
  /** Further cluster domains in use (e.g. the gateway's, when it was defined with other mesh settings). */
  readonly clusterDomains?: string[];
  /** Namespaces the construct knows to exist (the gateway's): `<service>.<namespace>` is an in-cluster name. */
  readonly namespaces?: string[];
  /** The proxy's own Service names (the gateway's FQDN), which must never be an external destination. */
  readonly ownNames?: string[];
}

/**
 * Why the library refuses `host` as an external destination by default, or undefined when it has no objection. The
 * reason names the risk; callers add how to opt in.
 *
 * @internal
 */
export function hostRiskReason(host: ExternalHost, context: HostRiskContext): string | undefined {
  return preparedRiskReason(host, prepare(context));
}

/** A `HostRiskContext` with its derived lists computed once (a construct checks every host it adds against it). */
interface PreparedContext {
  readonly ownNames: readonly string[];
  readonly clusterDomains: readonly string[];
  readonly namespaces: ReadonlySet<string>;
}

function prepare(context: HostRiskContext): PreparedContext {
  return {
    ownNames: context.ownNames ?? [],
    clusterDomains: [...new Set([context.mesh.clusterDomain, ...(context.clusterDomains ?? [])])],
    namespaces: new Set([
      ...(context.namespaces ?? []),
      context.mesh.rootNamespace,
      context.mesh.istiodNamespace,
      'default',
      'kube-system',
      'kube-public',
      'kube-node-lease',
    ]),
  };
}

function preparedRiskReason(host: ExternalHost, context: PreparedContext): string | undefined {
  if (host.isAnyHost) {
    return undefined; // `*` has its own explicit opt-in (allowAnyHost)
  }
  // In-cluster first (`*.local` is about the cluster, not a registry), then breadth (`*.com` is about registration,
  // not the one metadata name it happens to cover), then the metadata and address-echo names.
  return inClusterReason(host, context) ?? broadWildcardReason(host) ?? metadataReason(host);
}

/** Names that lead into the cluster: the cluster domain, Kubernetes and private top-level domains, this proxy. */
function inClusterReason(host: ExternalHost, context: PreparedContext): string | undefined {
  const name = host.name;
  const ownNames = context.ownNames;
  if (ownNames.includes(name)) {
    return `"${name}" is this egress gateway's own Service: traffic to it would loop back into the gateway`;
  }
  for (const domain of context.clusterDomains) {
    if (intersectsDomain(host, domain)) {
      return (
        `it ${host.isWildcard ? 'covers' : 'is'} an in-cluster name under the cluster domain "${domain}": the gateway would connect to ` +
        'cluster Services (the Kubernetes API server, istiod, other teams\' Services), past the NetworkPolicies that keep applications away from them'
      );
    }
  }
  const tld = host.domain.slice(host.domain.lastIndexOf('.') + 1);
  const privateTld = PRIVATE_TOP_LEVEL_DOMAINS.get(tld);
  if (privateTld !== undefined) {
    return `the top-level domain ".${tld}" ${privateTld}: the name leads inside, not to an external service`;
  }
  if (context.namespaces.has(tld)) {
    return (
      `"${tld}" is a Kubernetes namespace of this cluster, not a top-level domain: "<service>.${tld}" is an in-cluster Service name, ` +
      'resolved through the pod\'s DNS search path'
    );
  }
  if (!host.isWildcard && (host.name === 'localhost' || host.name.startsWith('localhost.'))) {
    return 'a name starting with "localhost." often resolves to the loopback address (127.0.0.1), i.e. the gateway pod itself';
  }
  const coveredOwn = ownNames.find((own) => host.matches(own));
  if (coveredOwn !== undefined) {
    return `"${host.name}" covers "${coveredOwn}", this egress gateway's own Service: traffic to it would loop back into the gateway`;
  }
  return undefined;
}

/** Cloud metadata names and resolvers that echo an address written in the name. */
function metadataReason(host: ExternalHost): string | undefined {
  for (const [name, cloud] of METADATA_NAMES) {
    if (intersectsDomain(host, name)) {
      return `"${name}" is the ${cloud} instance metadata service, which hands out the node's credentials`;
    }
  }
  for (const domain of ADDRESS_ECHO_DOMAINS) {
    if (intersectsDomain(host, domain)) {
      return (
        `names under "${domain}" resolve to the IP address written in the name (e.g. 169.254.169.254.${domain} to the cloud metadata address), ` +
        'so they reach any address, inside the cluster too'
      );
    }
  }
  return undefined;
}

/** Wildcards under which anyone can create a name: a top-level domain, a public suffix, a multi-tenant domain. */
function broadWildcardReason(host: ExternalHost): string | undefined {
  if (!host.isWildcard) {
    return undefined;
  }
  const domain = host.domain;
  if (!domain.includes('.')) {
    return (
      `"${host.name}" matches every name under the top-level domain ".${domain}", where anyone can register a name and receive the traffic; ` +
      'a wildcard needs at least two labels after "*" (e.g. "*.example.com")'
    );
  }
  if (MULTI_LABEL_PUBLIC_SUFFIXES.has(domain)) {
    return `"${domain}" is a public suffix where anyone can register a name, so "${host.name}" would admit names an attacker registers; list your domains (e.g. "*.example.${domain}")`;
  }
  const tenant = MULTI_TENANT_DOMAINS.get(domain);
  if (tenant !== undefined) {
    return (
      `"${host.name}" covers ${tenant}: anyone can create a name there and receive the traffic (exfiltration without any spoofing); ` +
      `list your own names (e.g. "my-site.${domain}")`
    );
  }
  for (const suffix of [domain, ...properSuffixes(domain)]) {
    const deep = DEEP_MULTI_TENANT_DOMAINS.get(suffix);
    if (deep !== undefined) {
      return (
        `"${host.name}" covers ${deep} (names under "${suffix}" are created by its customers): anyone can create one and receive the traffic; ` +
        'list your own exact names instead'
      );
    }
  }
  return undefined;
}

/** Whether some name matched by `host` is `domain` or a name under it. */
function intersectsDomain(host: ExternalHost, domain: string): boolean {
  if (host.isWildcard) {
    // *.d matches names under d: they meet names under `domain` when one of d, domain is under (or equal to) the other
    return host.domain === domain || isUnder(host.domain, domain) || isUnder(domain, host.domain);
  }
  return host.name === domain || isUnder(host.name, domain);
}

/** Whether `name` ends in `.<domain>` (without building that text: this runs for every host and listed domain). */
function isUnder(name: string, domain: string): boolean {
  return name.length > domain.length && name.charCodeAt(name.length - domain.length - 1) === 46 /* . */ && name.endsWith(domain);
}

/**
 * Applies `hostRiskReason` to every host a construct adds, with the construct's exemptions: a refused host fails
 * synthesis naming the risk and the opt-in; an exempted one passes and its reason is recorded in an annotation.
 *
 * @internal
 */
export class HostScreen {
  private readonly exemptions = new Map<string, { readonly reason: string; readonly index: number; used: boolean }>();
  /** The construct's context, prepared once. */
  private readonly context: PreparedContext;

  /**
   * @param scope the construct, for messages and validation
   * @param field the name of the exemptions property, for messages
   * @param exemptions the construct's exemptions
   * @param context what the construct knows about the cluster
   */
  public constructor(
    scope: IConstruct,
    private readonly field: string,
    exemptions: HostExemption[] | undefined,
    context: HostRiskContext,
  ) {
    this.context = prepare(context);
    if (exemptions !== undefined && !Array.isArray(exemptions)) {
      fieldError(scope, field, 'expected a list of HostExemptions, each with a host and a reason');
    }
    (exemptions ?? []).forEach((exemption, i) => {
      const at = `${field}[${i}]`;
      if (exemption === null || typeof exemption !== 'object') {
        fieldError(scope, at, 'expected a HostExemption with a host and a reason');
      }
      if (typeof exemption.host !== 'string') {
        fieldError(scope, `${at}.host`, 'give the host exactly as listed, e.g. "*.s3.amazonaws.com"');
      }
      if (typeof exemption.reason !== 'string' || exemption.reason.trim().length === 0) {
        fieldError(
          scope,
          `${at}.reason`,
          `the exemption of "${exemption.host}" needs a reason (why the host must be reachable although the library refuses it, e.g. a ticket); it is recorded on the ServiceEntry`,
        );
      }
      const previous = this.exemptions.get(exemption.host);
      if (previous !== undefined) {
        fieldError(scope, at, `"${exemption.host}" is already exempted at ${field}[${previous.index}]; list each host once`);
      }
      this.exemptions.set(exemption.host, { reason: exemption.reason.trim(), index: i, used: false });
    });
    scope.node.addValidation({
      validate: () =>
        [...this.exemptions.entries()]
          .filter(([, e]) => !e.used)
          .map(([host, e]) => `${field}[${e.index}]: "${host}" is exempted but not among the hosts; remove the exemption or add the host`),
    });
  }

  /**
   * Throws (an error for `inField`) if the host is refused and not exempted, or exempted without being refused.
   */
  public check(host: ExternalHost): void {
    const reason = preparedRiskReason(host, this.context);
    const exemption = this.exemptions.get(host.name);
    if (reason === undefined) {
      if (exemption !== undefined) {
        throw new Error(
          `host "${host.name}" is exempted in ${this.field}[${exemption.index}] but the library does not refuse it; remove the exemption`,
        );
      }
      return;
    }
    if (exemption === undefined) {
      throw new Error(
        `Refused host "${host.name}": ${reason}. If it must be reachable all the same, list it in ${this.field} with the reason ` +
          `(a HostExemption with host "${host.name}" and a reason)`,
      );
    }
    exemption.used = true;
  }

  /**
   * The annotation that records the exemption of `host` (`cdk8s-istio-egress/host-exemptions`), if it is exempted and
   * was checked: for a construct with one ServiceEntry per host.
   */
  public annotationsFor(host: ExternalHost): { [key: string]: string } | undefined {
    const exemption = this.exemptions.get(host.name);
    if (exemption === undefined || !exemption.used) {
      return undefined;
    }
    return { [HOST_EXEMPTIONS_ANNOTATION]: JSON.stringify({ [host.name]: exemption.reason }) };
  }

  /** The annotation that records every exemption in use (`cdk8s-istio-egress/host-exemptions`), if any. */
  public get annotations(): { [key: string]: string } | undefined {
    const used = [...this.exemptions.entries()].filter(([, e]) => e.used).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (used.length === 0) {
      return undefined;
    }
    return { [HOST_EXEMPTIONS_ANNOTATION]: JSON.stringify(Object.fromEntries(used.map(([host, e]) => [host, e.reason]))) };
  }
}

/** Annotation on a ServiceEntry that records the hosts accepted against the library's refusal, with their reasons. */
export const HOST_EXEMPTIONS_ANNOTATION = 'cdk8s-istio-egress/host-exemptions';
