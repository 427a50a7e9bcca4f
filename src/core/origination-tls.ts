import { validateDnsSubdomain } from './dns';

/** Annotation that records why an origination does not verify the server (`OriginationTls.insecureWithoutVerification`). */
const INSECURE_REASON_ANNOTATION = 'cdk8s-istio-egress/insecure-skip-verify-reason';

/**
 * The proxy that originates TLS: where it reads `credentialName` Secrets from, and how messages name it.
 *
 * @internal
 */
export interface OriginatingProxy {
  /** The proxy's namespace: Istio reads `credentialName` Secrets from it. */
  readonly namespace: string;

  /** `gateway` or `waypoint`, for messages. */
  readonly kind: string;
}

/**
 * The DestinationRule client TLS settings (`ClientTLSSettings`) an origination renders, with the mode type of the
 * generated DestinationRule type it goes into (top-level or port-level `tls`).
 *
 * @internal
 */
export interface ClientTlsSettings<M> {
  readonly mode: M;
  readonly sni: string;
  readonly subjectAltNames?: string[];
  readonly caCertificates?: string;
  readonly credentialName?: string;
  readonly insecureSkipVerify?: boolean;
}

/**
 * The certificate authorities the proxy that originates TLS (an egress gateway or a waypoint) trusts when it verifies
 * the external server's certificate (DestinationRule `tls.caCertificates` or `tls.credentialName`).
 *
 * @see https://istio.io/latest/docs/reference/config/networking/destination-rule/#ClientTLSSettings
 */
export class TrustedCa {
  /**
   * The CA bundle of the proxy's operating system (the public web PKI). Istio 1.30 verifies the server against it
   * when `caCertificates` is empty; older Istio versions (before `VERIFY_CERTIFICATE_AT_CLIENT` became the default)
   * did not verify at all, so run Istio 1.30 or later. `istioctl analyze` reports IST0129 for such a rule ("no
   * caCertificates are set"): expected, as the system bundle is used.
   */
  public static systemRoots(): TrustedCa {
    return new TrustedCa(undefined, undefined, undefined);
  }

  /**
   * A PEM bundle at a path inside the proxy pods (`caCertificates`). The file must be mounted into the pods by their
   * installation; neither `EgressGateway` nor a waypoint mounts files, so prefer `TrustedCa.fromSecret`.
   *
   * @param path absolute path of the PEM file in the proxy container, e.g. `/etc/istio/egress-ca/ca.crt`
   */
  public static fromFile(path: string): TrustedCa {
    return new TrustedCa(path, undefined, undefined);
  }

  /**
   * The CA in a Kubernetes Secret (`credentialName`): key `ca.crt` (or `cacert`). Istio reads the Secret from the
   * namespace of the proxy that originates TLS, so the Secret must be in the egress gateway's (or waypoint's)
   * namespace. No RBAC is needed, so none is created: for a CA-only reference istiod asks for `<secretName>-cacert`
   * only (`pilot/pkg/security/model/authentication.go`, `ApplyCredentialSDSToClientCommonTLSContext`) and serves
   * CA-only Secrets of the proxy's own namespace without an authorization check (`pilot/pkg/xds/sds.go`, Istio 1.30.3
   * lines 292-301).
   *
   * @param secretName the Secret's name
   * @param namespace the Secret's namespace, if you want it checked against the proxy's
   */
  public static fromSecret(secretName: string, namespace?: string): TrustedCa {
    return new TrustedCa(undefined, secretName, namespace);
  }

  /** @internal */
  public readonly _file?: string;

  /** @internal */
  public readonly _secretName?: string;

  /** @internal */
  public readonly _secretNamespace?: string;

  private constructor(file: string | undefined, secretName: string | undefined, secretNamespace: string | undefined) {
    this._file = file;
    this._secretName = secretName;
    this._secretNamespace = secretNamespace;
  }

  /** `system roots`, `file /path` or `secret name`, for messages. */
  public toString(): string {
    if (this._file !== undefined) {
      return `file ${this._file}`;
    }
    return this._secretName !== undefined ? `secret ${this._secretName}` : 'system roots';
  }
}

/**
 * Options for `OriginationTls.simple`.
 */
export interface SimpleOriginationOptions {
  /**
   * The CAs that must have signed the server's certificate.
   *
   * @default TrustedCa.systemRoots()
   */
  readonly ca?: TrustedCa;

  /**
   * Names the server certificate must carry (DestinationRule `subjectAltNames`). With `sni` set, Istio does not check
   * the host name unless this list is given (`cluster_tls.go`), so the default is never empty.
   *
   * @default - the external host name
   */
  readonly subjectAltNames?: string[];
}

/**
 * Options for `OriginationTls.mutual`.
 */
export interface MutualOriginationOptions {
  /**
   * The Kubernetes Secret holding the client certificate the gateway presents and the CA that verifies the server:
   * a `kubernetes.io/tls` Secret with `tls.crt`, `tls.key` and `ca.crt` (or a generic one with `cert`, `key`,
   * `cacert`). Istio does not allow a CA file beside `credentialName`, so the server is verified against the Secret's
   * `ca.crt`; without it the gateway gets no validation context and the connection fails.
   */
  readonly credentialName: string;

  /**
   * The namespace of the Secret. Istio reads `credentialName` Secrets from the namespace of the proxy that uses them,
   * the egress gateway's; given only so a wrong namespace fails at synth time instead of at run time.
   *
   * @default - the egress gateway's namespace
   */
  readonly credentialNamespace?: string;

  /**
   * Names the server certificate must carry.
   *
   * @default - the external host name
   */
  readonly subjectAltNames?: string[];
}

/**
 * Options for `OriginationTls.insecureWithoutVerification`.
 */
export interface InsecureOriginationOptions {
  /**
   * Why the server's certificate is not verified (e.g. "lab server with a self-signed certificate, ticket OPS-123").
   * Written to the DestinationRule's `cdk8s-istio-egress/insecure-skip-verify-reason` annotation for reviewers.
   */
  readonly reason: string;
}

enum OriginationMode {
  SIMPLE = 'SIMPLE',
  MUTUAL = 'MUTUAL',
  INSECURE = 'INSECURE',
}

/**
 * How a proxy (an egress gateway with `TlsOriginationEgress`, or an ambient waypoint with
 * `AmbientEgressWaypoint.addHost(host, { tlsOrigination })`) originates TLS to an external host: which certificate it
 * presents (none, or a client certificate for mutual TLS) and how it verifies the server.
 *
 * Every mode sends the host name as SNI. The verifying modes also check the server certificate against the host
 * name (`subjectAltNames`, by default the host): Istio skips that check when `sni` is set and no names are given.
 *
 * @see https://istio.io/latest/docs/tasks/traffic-management/egress/egress-gateway-tls-origination/
 * @see https://istio.io/latest/docs/reference/config/networking/destination-rule/#ClientTLSSettings
 */
export class OriginationTls {
  /**
   * TLS (DestinationRule `mode: SIMPLE`): the proxy verifies the server's certificate against the system roots or
   * the given CA, and its names against the host.
   */
  public static simple(options: SimpleOriginationOptions = {}): OriginationTls {
    const ca = options?.ca ?? TrustedCa.systemRoots();
    return new OriginationTls(OriginationMode.SIMPLE, ca, undefined, undefined, options?.subjectAltNames, undefined);
  }

  /**
   * Mutual TLS (DestinationRule `mode: MUTUAL`): the gateway also presents the client certificate from a Kubernetes
   * Secret in its namespace (`credentialName`), and verifies the server against the Secret's `ca.crt`.
   * `TlsOriginationEgress` lets the gateway read Secrets of its namespace (`grantCredentialAccess`, Istio's SDS
   * Role): istiod serves a client key only to a proxy that may read the Secret. Not at a
   * waypoint: istiod serves the client key only to a proxy allowed to read Secrets, which Istio's waypoints are not.
   *
   * @see https://istio.io/latest/docs/tasks/traffic-management/egress/egress-gateway-tls-origination/#perform-mutual-tls-origination-with-an-egress-gateway
   */
  public static mutual(options: MutualOriginationOptions): OriginationTls {
    return new OriginationTls(
      OriginationMode.MUTUAL,
      undefined,
      options?.credentialName,
      options?.credentialNamespace,
      options?.subjectAltNames,
      undefined,
    );
  }

  /**
   * TLS without any check of the server's certificate (`insecureSkipVerify: true`): anyone on the path between the
   * proxy and the host can impersonate the host and read the traffic. Only for test servers whose certificate
   * cannot be verified; the reason is required and recorded on the DestinationRule.
   */
  public static insecureWithoutVerification(options: InsecureOriginationOptions): OriginationTls {
    return new OriginationTls(OriginationMode.INSECURE, undefined, undefined, undefined, undefined, options?.reason);
  }

  private constructor(
    private readonly mode: OriginationMode,
    private readonly ca: TrustedCa | undefined,
    private readonly credentialName: string | undefined,
    private readonly credentialNamespace: string | undefined,
    private readonly subjectAltNames: string[] | undefined,
    private readonly reason: string | undefined,
  ) {}

  /** Whether the proxy checks the server's certificate (false only for `insecureWithoutVerification`). */
  public get verifiesServer(): boolean {
    return this.mode !== OriginationMode.INSECURE;
  }

  /** Whether the proxy presents a client certificate (`mutual`). */
  public get presentsClientCertificate(): boolean {
    return this.mode === OriginationMode.MUTUAL;
  }

  /**
   * Checks the settings for the proxy that originates TLS; messages name the field below `tls`.
   *
   * @internal
   */
  public _validate(proxy: OriginatingProxy): void {
    if (this.mode === OriginationMode.INSECURE) {
      if (typeof this.reason !== 'string' || this.reason.trim().length === 0) {
        throw new Error(
          'reason: insecureWithoutVerification needs a reason (why the server certificate cannot be verified); ' +
            'prefer OriginationTls.simple with a ca from TrustedCa.fromSecret (the server\'s CA)',
        );
      }
      return;
    }
    if (this.mode === OriginationMode.MUTUAL) {
      if (this.credentialName === undefined || this.credentialName === null || this.credentialName === '') {
        throw new Error(
          `credentialName: mutual TLS needs the client certificate: the name of a Kubernetes Secret in the ${proxy.kind}'s namespace ("${proxy.namespace}") ` +
            'with tls.crt, tls.key and ca.crt, e.g. OriginationTls.mutual with credentialName "client-credential"',
        );
      }
      prefixed('credentialName', () => validateDnsSubdomain(this.credentialName!, 'credentialName'));
      checkSecretNamespace('credentialNamespace', this.credentialName, this.credentialNamespace, proxy);
    }
    if (this.ca?._file !== undefined) {
      const file = this.ca._file;
      if (typeof file !== 'string' || !file.startsWith('/') || /\s/.test(file)) {
        throw new Error(
          `ca: CA file ${JSON.stringify(file)} must be an absolute path without spaces inside the ${proxy.kind} pods, e.g. "/etc/istio/egress-ca/ca.crt"`,
        );
      }
    }
    if (this.ca?._secretName !== undefined) {
      prefixed('ca', () => validateDnsSubdomain(this.ca!._secretName!, 'CA secret name'));
      checkSecretNamespace('ca', this.ca._secretName, this.ca._secretNamespace, proxy);
    }
    if (this.subjectAltNames !== undefined) {
      if (!Array.isArray(this.subjectAltNames) || this.subjectAltNames.length === 0) {
        throw new Error('subjectAltNames: an empty list turns the host name check off; omit it to check the host name, or list the names the certificate carries');
      }
      this.subjectAltNames.forEach((san, i) => {
        if (typeof san !== 'string' || san.length === 0 || /\s/.test(san)) {
          throw new Error(`subjectAltNames[${i}]: ${JSON.stringify(san)} is not a certificate name; give a DNS name such as "api.example.com"`);
        }
      });
    }
  }

  /**
   * The Kubernetes Secret the proxy must be able to read, if any.
   *
   * @internal
   */
  public get _secretName(): string | undefined {
    return this.mode === OriginationMode.MUTUAL ? this.credentialName : this.ca?._secretName;
  }

  /**
   * Whether the proxy's service account must be allowed to read Secrets of its namespace: only for `mutual`, whose
   * client key istiod serves after a SubjectAccessReview (`pilot/pkg/credentials/kube/secrets.go`). A CA-only Secret
   * (`TrustedCa.fromSecret`) needs no RBAC (`pilot/pkg/xds/sds.go`: CA-only resources of the same namespace are
   * served without authorization).
   *
   * @internal
   */
  public get _needsSecretReadAccess(): boolean {
    return this.mode === OriginationMode.MUTUAL;
  }

  /**
   * The annotations of the DestinationRule that originates TLS: the reason of an insecure origination, if any.
   *
   * @internal
   */
  public get _annotations(): { [key: string]: string } | undefined {
    return this.mode === OriginationMode.INSECURE ? { [INSECURE_REASON_ANNOTATION]: this.reason! } : undefined;
  }

  /**
   * The DestinationRule client TLS settings (`tls` block) for one external host: mode, `sni` (always the host),
   * `subjectAltNames` (by default the host), the CA or `credentialName`, and `insecureSkipVerify`. `modes` is the
   * generated mode enum of the place the block goes (top-level or port-level `tls`).
   *
   * @internal
   */
  public _renderClientTls<M>(host: string, modes: { readonly SIMPLE: M; readonly MUTUAL: M }): ClientTlsSettings<M> {
    if (this.mode === OriginationMode.INSECURE) {
      // Istio rejects a CA, credentialName or subjectAltNames beside insecureSkipVerify.
      return { mode: modes.SIMPLE, sni: host, insecureSkipVerify: true };
    }
    const subjectAltNames = this.subjectAltNames !== undefined ? [...this.subjectAltNames] : [host];
    if (this.mode === OriginationMode.MUTUAL) {
      return { mode: modes.MUTUAL, credentialName: this.credentialName, sni: host, subjectAltNames };
    }
    return {
      mode: modes.SIMPLE,
      caCertificates: this.ca?._file,
      credentialName: this.ca?._secretName,
      sni: host,
      subjectAltNames,
    };
  }

  /** `SIMPLE (system roots)`, `MUTUAL (secret x)` or `INSECURE`, for messages. */
  public toString(): string {
    switch (this.mode) {
      case OriginationMode.MUTUAL:
        return `MUTUAL (secret ${this.credentialName})`;
      case OriginationMode.INSECURE:
        return 'INSECURE (no server verification)';
      default:
        return `SIMPLE (${this.ca ?? TrustedCa.systemRoots()})`;
    }
  }
}

function prefixed<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new Error(`${field}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function checkSecretNamespace(field: string, secret: string, namespace: string | undefined, proxy: OriginatingProxy): void {
  if (namespace !== undefined && namespace !== proxy.namespace) {
    throw new Error(
      `${field}: the Secret "${secret}" is in namespace ${JSON.stringify(namespace)}, but Istio reads credentialName Secrets only from the ` +
        `namespace of the proxy that uses them, the egress ${proxy.kind}'s ("${proxy.namespace}"); create the Secret in "${proxy.namespace}"`,
    );
  }
}
