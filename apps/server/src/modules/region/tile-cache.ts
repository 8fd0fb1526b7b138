/**
 * Encoded grid tiles kept in memory: boundaries are public and change rarely (a re-gridding), while every map view
 * asks for the same few hundred tiles of its city. Least recently used first out, bounded by bytes; an entry lives
 * `ttlMs` (the tiles' `cache-control: max-age`, so another server process's boundary change shows as late here as in
 * a browser cache), and `clear()` on every boundary change in this process.
 */
export class TileCache {
  private readonly entries = new Map<string, { tile: Uint8Array; at: number }>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): Uint8Array | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (this.now() - entry.at >= this.ttlMs) {
      this.bytes -= entry.tile.byteLength;
      return undefined;
    }
    this.entries.set(key, entry); // most recently used last
    return entry.tile;
  }

  set(key: string, tile: Uint8Array): void {
    if (tile.byteLength > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.tile.byteLength;
      this.entries.delete(key);
    }
    this.entries.set(key, { tile, at: this.now() });
    this.bytes += tile.byteLength;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.tile.byteLength;
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  /** The cached tile, or `make()` stored and returned. */
  async through(key: string, make: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const cached = this.get(key);
    if (cached) return cached;
    const tile = await make();
    this.set(key, tile);
    return tile;
  }
}
