/**
 * The egress matrix: what each namespace and workload may reach, how, and through which path — what an auditor
 * reviews and what the tests compare against.
 */

/** One row of the egress matrix. */
export interface EgressMatrixRow {
  /** The namespace (team). */
  readonly namespace: string;
  /** `sidecar` or `ambient`. */
  readonly mode: string;
  /** The pods: `all pods` or the selector (`app=curl`). */
  readonly workload: string;
  /** The identity the gateway or waypoint admits (`namespace team-a`, `service account team-a/curl`), `-` for NetworkPolicy-only rows. */
  readonly identity: string;
  /** The host, CIDR or generated remote. */
  readonly remote: string;
  /** The ports (empty: every port). */
  readonly ports: number[];
  /** TLS, HTTP, TCP or UDP (what the application sends). */
  readonly protocol: string;
  /** The path: `gateway <ns>/<name>`, `waypoint <ns>/<name>`, `direct (NetworkPolicy)`, or `not realised`. */
  readonly path: string;
  /** The TLS origination (`TLS to 443`, `mutual TLS to 443`), empty when none. */
  readonly tlsOrigination: string;
  /** HTTP methods and paths allowed, empty when any. */
  readonly l7: string;
  /** Where the entry came from. */
  readonly entry: string;
  /** The entry's description. */
  readonly description: string;
}

/** The matrix as a Markdown table. @internal */
export function matrixMarkdown(rows: EgressMatrixRow[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    '| namespace | mode | workload | identity | remote | ports | protocol | path | TLS origination | HTTP rule | entry |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) =>
      `| ${[r.namespace, r.mode, r.workload, r.identity, `\`${r.remote}\``, r.ports.length === 0 ? 'all' : r.ports.join(', '), r.protocol, r.path, r.tlsOrigination || '-', r.l7 || '-', r.entry]
        .map((c) => esc(c))
        .join(' | ')} |`,
    ),
  ];
  return lines.join('\n') + '\n';
}
