import { outbox, db, getToken } from './store.ts';

/**
 * Sends the outbox when the network returns, and tries every 5 s meanwhile (online events are not always reliable);
 * a pass only sends the items whose backoff has run out, so the tries cost nothing while they wait.
 */
export function startBackground(): void {
  window.addEventListener('online', () => void outbox.networkReturned());
  window.addEventListener('offline', () => outbox.networkLost());
  if (!navigator.onLine) outbox.networkLost();
  const tick = () => {
    if (getToken() && navigator.onLine) void outbox.sync();
  };
  setInterval(tick, 5_000);
  void outbox.prune().then(tick);
  void db.open();
}
