import { Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { istioObject } from './istio-object';
import { dnsLabelName } from './names';
import { ServiceEntry, ServiceEntrySpec } from '../../imports/networking.istio.io';

/** The most hosts one ServiceEntry may list: the Istio CRD's `spec.hosts` `maxItems`, enforced by the API server. */
export const SERVICE_ENTRY_MAX_HOSTS = 256;

/**
 * The ServiceEntries of one growing, sorted host list: as many as its size needs, 256 hosts each, so any number of
 * hosts gives objects the API server accepts (finding M7). The first is named `name` (construct id `id`), the next
 * `<name>-2`, `<name>-3`, ... (ids `<id>2`, `<id>3`, ...); the k-th lists the k-th run of 256 names in sorted order,
 * so adding a host can move a later name into the next entry, which Istio handles as any host change.
 *
 * @internal
 */
export class ServiceEntryShards {
  private readonly entries: ServiceEntry[] = [];

  /**
   * @param scope the construct the entries belong to
   * @param id construct id of the first entry
   * @param name metadata name of the first entry
   * @param hosts the current sorted host list, read at synth
   * @param render the object of one entry: its metadata name and spec (`hosts` is filled in here)
   */
  public constructor(
    private readonly scope: Construct,
    private readonly id: string,
    private readonly name: string,
    private readonly hosts: () => string[],
    private readonly render: (name: string) => { metadata: { [key: string]: any }; spec: Omit<ServiceEntrySpec, 'hosts'> },
  ) {
    this.grow(1);
  }

  /** The first entry (the one every construct has, even with few hosts). */
  public get first(): ServiceEntry {
    return this.entries[0];
  }

  /** Every entry. */
  public get all(): ServiceEntry[] {
    return [...this.entries];
  }

  /** Makes sure there are entries for `count` hosts. Call it after each host added. */
  public grow(count: number): void {
    const needed = Math.max(1, Math.ceil(count / SERVICE_ENTRY_MAX_HOSTS));
    while (this.entries.length < needed) {
      const k = this.entries.length;
      const name = k === 0 ? this.name : dnsLabelName([this.name, String(k + 1)]);
      const { metadata, spec } = this.render(name);
      this.entries.push(
        istioObject(this.scope, k === 0 ? this.id : `${this.id}${k + 1}`, ServiceEntry, {
          metadata: { ...metadata, name },
          spec: {
            ...spec,
            hosts: Lazy.any({ produce: () => this.hosts().slice(k * SERVICE_ENTRY_MAX_HOSTS, (k + 1) * SERVICE_ENTRY_MAX_HOSTS) }) as any,
          },
        }),
      );
    }
  }
}
