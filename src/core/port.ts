import { show } from './bounds';
import { dnsLabelProblem } from './dns';
import { inFactory, problem } from './errors';

/**
 * A port protocol as Istio names it (`pkg/config/protocol/instance.go`). The value is the exact string written to
 * ServiceEntry / Gateway ports.
 *
 * @see https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/
 */
export enum Protocol {
  /** Plain HTTP/1.1 (Istio sniffs HTTP/2 prior knowledge too). */
  HTTP = 'HTTP',
  /** HTTP over TLS, opaque to the proxy (treated like TLS: routed by SNI). */
  HTTPS = 'HTTPS',
  /** Plain-text HTTP/2. */
  HTTP2 = 'HTTP2',
  /** gRPC (HTTP/2). */
  GRPC = 'GRPC',
  /** Any TLS stream, routed by SNI. */
  TLS = 'TLS',
  /** Opaque TCP. */
  TCP = 'TCP',
  /** MongoDB wire protocol. */
  MONGO = 'MONGO',
  /** MySQL wire protocol. */
  MYSQL = 'MYSQL',
  /** Redis wire protocol. */
  REDIS = 'REDIS',
}

/** The port-name prefix Istio derives each protocol from (`<protocol>[-<suffix>]`). */
const NAME_PREFIX: Record<Protocol, string> = {
  [Protocol.HTTP]: 'http',
  [Protocol.HTTPS]: 'https',
  [Protocol.HTTP2]: 'http2',
  [Protocol.GRPC]: 'grpc',
  [Protocol.TLS]: 'tls',
  [Protocol.TCP]: 'tcp',
  [Protocol.MONGO]: 'mongo',
  [Protocol.MYSQL]: 'mysql',
  [Protocol.REDIS]: 'redis',
};

/** `NAME_PREFIX` the other way round. */
const PROTOCOL_OF_PREFIX = new Map(Object.entries(NAME_PREFIX).map(([protocol, prefix]) => [prefix, protocol as Protocol]));

/**
 * The protocol Istio would derive from a port name (`http-web` -> HTTP), or undefined if the name has no protocol
 * prefix Istio knows. Istio reads the part before the first `-`, case-insensitively.
 *
 * @see https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/#explicit-protocol-selection
 */
export function protocolFromPortName(name: string): Protocol | undefined {
  const dash = name.indexOf('-');
  return PROTOCOL_OF_PREFIX.get((dash < 0 ? name : name.slice(0, dash)).toLowerCase());
}

/** Checks a port number: an integer in 1..65535 (Istio `ValidatePort`). */
export function validatePortNumber(port: number, what: string = 'port number'): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw problem(`${what} ${show(port)} must be an integer in the range 1..65535`);
  }
  return port;
}

/**
 * Options shared by the EgressPort factories.
 */
export interface EgressPortOptions {
  /**
   * The port name. Must be a DNS-1123 label; if it starts with a protocol prefix (`http-`, `tls-`, ...) that prefix
   * must agree with the protocol, since Istio derives the protocol of Kubernetes Service ports from it.
   *
   * @default - `<protocol>-<number>`, e.g. `tls-443`
   */
  readonly name?: string;

  /**
   * The port the traffic is finally sent to, when it differs from `number` (ServiceEntry `targetPort`, e.g. TLS
   * origination from port 80 to 443; Service `targetPort`, e.g. 443 -> 8443 on a gateway).
   *
   * @default - same as number
   */
  readonly targetPort?: number;
}

/**
 * Properties for `EgressPort.of`.
 */
export interface EgressPortProps extends EgressPortOptions {
  /** Port number, 1..65535. */
  readonly number: number;

  /** Protocol Istio applies to the port. */
  readonly protocol: Protocol;
}

/**
 * A port of an external service or egress gateway: number, protocol and the name Istio derives the protocol from.
 *
 * Use the factories (`EgressPort.tls(443)`, `EgressPort.http(80)`) or `EgressPort.of()` for any protocol.
 */
export class EgressPort {
  /** TLS (routed by SNI, not decrypted) on the given port. */
  public static tls(number: number = 443, options: EgressPortOptions = {}): EgressPort {
    return inFactory(`EgressPort.tls(${show(number)})`, () => EgressPort.of({ ...optionsOf(options), number, protocol: Protocol.TLS }));
  }

  /** HTTPS (routed by SNI, not decrypted) on the given port. */
  public static https(number: number = 443, options: EgressPortOptions = {}): EgressPort {
    return inFactory(`EgressPort.https(${show(number)})`, () => EgressPort.of({ ...optionsOf(options), number, protocol: Protocol.HTTPS }));
  }

  /** Plain HTTP on the given port. */
  public static http(number: number = 80, options: EgressPortOptions = {}): EgressPort {
    return inFactory(`EgressPort.http(${show(number)})`, () => EgressPort.of({ ...optionsOf(options), number, protocol: Protocol.HTTP }));
  }

  /** Opaque TCP on the given port. */
  public static tcp(number: number, options: EgressPortOptions = {}): EgressPort {
    return inFactory(`EgressPort.tcp(${show(number)})`, () => EgressPort.of({ ...optionsOf(options), number, protocol: Protocol.TCP }));
  }

  /**
   * A port with any protocol.
   *
   * @throws if the number or target port is outside 1..65535, or the name is not a DNS label or implies another
   * protocol
   */
  public static of(props: EgressPortProps): EgressPort {
    return inFactory('EgressPort.of', () => {
      if (props === null || typeof props !== 'object') {
        throw problem(`expected EgressPortProps such as { number: 443, protocol: Protocol.TLS }, got ${show(props)}`);
      }
      validatePortNumber(props.number);
      if (!Object.values(Protocol).includes(props.protocol)) {
        throw problem(`unsupported protocol ${show(props.protocol)}: use one of ${Object.values(Protocol).join(', ')}`);
      }
      if (props.targetPort !== undefined) {
        validatePortNumber(props.targetPort, 'target port');
      }
      if (props.name !== undefined && typeof props.name !== 'string') {
        throw problem(`port name ${show(props.name)} must be a string such as "tls-443"`);
      }
      const name = props.name ?? `${NAME_PREFIX[props.protocol]}-${props.number}`;
      const problemText = dnsLabelProblem(name);
      if (problemText) {
        throw problem(`invalid port name ${JSON.stringify(name)}: a port name ${problemText}, e.g. "tls-443"`);
      }
      const implied = protocolFromPortName(name);
      if (implied !== undefined && implied !== props.protocol) {
        throw problem(
          `invalid port name "${name}": Istio reads protocol ${implied} from its prefix but the port is ${props.protocol}; ` +
            `name it "${NAME_PREFIX[props.protocol]}-${props.number}"`,
        );
      }
      return new EgressPort(props.number, props.protocol, name, props.targetPort);
    });
  }

  private constructor(
    /** Port number. */
    public readonly number: number,
    /** Protocol. */
    public readonly protocol: Protocol,
    /** Port name (`tls-443` unless given). */
    public readonly name: string,
    /** Target port, if different from number. */
    public readonly targetPort?: number,
  ) {}

  /**
   * The port the traffic arrives at on the pods behind a Service port (or leaves to, for a ServiceEntry): the target
   * port, or the port itself when none is set, as in a Kubernetes Service. NetworkPolicies and the proxy's listeners
   * see this number.
   */
  public get podPort(): number {
    return this.targetPort ?? this.number;
  }

  /** Whether traffic on this port is TLS that Istio routes by SNI (TLS or HTTPS). */
  public get isTls(): boolean {
    return this.protocol === Protocol.TLS || this.protocol === Protocol.HTTPS;
  }

  /** Whether the proxy parses HTTP on this port (HTTP, HTTP2, GRPC). */
  public get isHttp(): boolean {
    return this.protocol === Protocol.HTTP || this.protocol === Protocol.HTTP2 || this.protocol === Protocol.GRPC;
  }

  /** `TLS 443 (tls-443)`, for messages. */
  public toString(): string {
    return `${this.protocol} ${this.number} (${this.name})`;
  }
}

/**
 * Checks that no two ports share a number or a name (Istio: "port %d already defined" / "port name %q already
 * defined"). `field` names the list in messages, e.g. `ports`.
 */
export function validateUniquePorts(ports: EgressPort[], field: string = 'ports'): void {
  const numbers = new Map<number, number>();
  const names = new Map<string, number>();
  ports.forEach((port, i) => {
    const byNumber = numbers.get(port.number);
    if (byNumber !== undefined) {
      const reason = `port ${port.number} already defined at ${field}[${byNumber}]; each port number may appear once`;
      throw problem(reason, `[${i}]`, undefined, `${field}[${i}]: ${reason}`);
    }
    const byName = names.get(port.name);
    if (byName !== undefined) {
      const reason = `port name "${port.name}" already defined at ${field}[${byName}]; give each port its own name`;
      throw problem(reason, `[${i}]`, undefined, `${field}[${i}]: ${reason}`);
    }
    numbers.set(port.number, i);
    names.set(port.name, i);
  });
}

/** The factories' options from JavaScript: undefined or an object. */
function optionsOf(options: EgressPortOptions | undefined): EgressPortOptions {
  if (options === undefined || options === null) {
    return {};
  }
  if (typeof options !== 'object') {
    throw problem(`options ${show(options)} must be an object such as { name: "tls-api" }`);
  }
  return options;
}
