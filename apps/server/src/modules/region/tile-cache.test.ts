import { describe, expect, it } from 'vitest';
import { TileCache } from './tile-cache.ts';

const bytes = (n: number) => new Uint8Array(n);

describe('TileCache', () => {
  it('evicts the least recently used first to stay under its byte bound', () => {
    const cache = new TileCache(100, 60_000);
    cache.set('a', bytes(40));
    cache.set('b', bytes(40));
    expect(cache.get('a')).toBeDefined(); // a is now the most recent
    cache.set('c', bytes(40)); // 120 > 100: b goes
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    cache.set('huge', bytes(101)); // larger than the bound: not kept, nothing evicted
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.size).toBe(2);
  });

  it('forgets entries after the time to live and on clear', async () => {
    let now = 0;
    const cache = new TileCache(1000, 60_000, () => now);
    cache.set('a', bytes(10));
    now = 59_999;
    expect(cache.get('a')).toBeDefined();
    now = 60_000;
    expect(cache.get('a')).toBeUndefined();
    let made = 0;
    const make = () => Promise.resolve(bytes(++made));
    expect((await cache.through('b', make)).length).toBe(1);
    expect((await cache.through('b', make)).length).toBe(1);
    cache.clear();
    expect((await cache.through('b', make)).length).toBe(2);
  });
});
