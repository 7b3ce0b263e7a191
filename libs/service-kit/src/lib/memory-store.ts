/** Records every service keeps: at most this many, so a flood of writes cannot exhaust the container's memory. */
export const DEFAULT_STORE_CAPACITY = 10_000;

/**
 * The embedded default store of a service: records by id, in insertion order, bounded. Services put their domain
 * rules (ids, uniqueness, timestamps) around it; a real database would take its place behind the same methods.
 */
export class MemoryStore<T extends { id: string }> {
  private readonly byId = new Map<string, T>();

  constructor(readonly capacity = DEFAULT_STORE_CAPACITY) {}

  get size(): number {
    return this.byId.size;
  }

  get full(): boolean {
    return this.byId.size >= this.capacity;
  }

  list(): T[] {
    return [...this.byId.values()];
  }

  get(id: string): T | undefined {
    return this.byId.get(id);
  }

  /** Stores the record and returns it, or undefined when the store is full. */
  insert(record: T): T | undefined {
    if (this.full) return undefined;
    this.byId.set(record.id, record);
    return record;
  }
}
