/** In-process notice that current boundaries changed (after commit), so the point → grid index rebuilds. */
export class BoundaryEvents {
  private readonly listeners = new Set<() => void | Promise<void>>();

  on(listener: () => void | Promise<void>): void {
    this.listeners.add(listener);
  }

  /** Call after the transaction that changed boundaries has committed. */
  async emit(): Promise<void> {
    for (const listener of this.listeners) await listener();
  }
}
