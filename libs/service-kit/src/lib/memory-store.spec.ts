import { DEFAULT_STORE_CAPACITY, MemoryStore } from './memory-store';

describe('MemoryStore', () => {
  it('keeps records by id in insertion order', () => {
    const store = new MemoryStore<{ id: string; n: number }>();
    store.insert({ id: 'b', n: 1 });
    store.insert({ id: 'a', n: 2 });
    expect(store.list().map((r) => r.id)).toEqual(['b', 'a']);
    expect(store.get('a')).toEqual({ id: 'a', n: 2 });
    expect(store.get('zz')).toBeUndefined();
    expect(store.size).toBe(2);
  });

  it('refuses inserts beyond its capacity', () => {
    const store = new MemoryStore<{ id: string }>(2);
    expect(store.insert({ id: '1' })).toEqual({ id: '1' });
    store.insert({ id: '2' });
    expect(store.full).toBe(true);
    expect(store.insert({ id: '3' })).toBeUndefined();
    expect(store.list()).toHaveLength(2);
  });

  it('defaults to a bounded capacity', () => {
    expect(new MemoryStore().capacity).toBe(DEFAULT_STORE_CAPACITY);
  });
});
