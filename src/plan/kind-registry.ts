/**
 * The registry of one family of types (metric sources, targets), keyed by the `type` a plan
 * writes. The plan schema is built from it, so a registration after the schema was first built
 * bumps `generation` and the schema is built again.
 */

/** The types of one family, in the order the schema and `rollout init` list them. */
export class KindRegistry<Kind extends { type: string }> {
  private readonly byType = new Map<string, Kind>();
  /** Counts registrations; what is built from the kinds is rebuilt when it changes. */
  generation = 0;

  constructor(
    /** "source" or "target", for messages. */
    private readonly family: string,
    kinds: Kind[],
  ) {
    for (const kind of kinds) this.register(kind);
  }

  /** Adds a type; a second type of the same name is a mistake, not an override. */
  register(kind: Kind): void {
    if (this.byType.has(kind.type)) throw new Error(`${this.family} type "${kind.type}" is registered twice`);
    this.byType.set(kind.type, kind);
    this.generation++;
  }

  /** Every type, in registration order. */
  all(): Kind[] {
    return [...this.byType.values()];
  }

  /** The type named `type`, or undefined for a name no plan could have passed the schema with. */
  find(type: string): Kind | undefined {
    return this.byType.get(type);
  }

  /** The type named `type`; throws for an unknown one (a config that bypassed the schema). */
  get(type: string): Kind {
    const kind = this.byType.get(type);
    if (!kind) throw new Error(`unknown ${this.family} type ${JSON.stringify(type)}`);
    return kind;
  }
}
