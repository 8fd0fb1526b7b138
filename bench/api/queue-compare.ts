/** W3's sameness check: Wangge's queue answer and the raw one must name the same buckets, counts and cases. */
export interface QueueAnswer {
  buckets: { key: string; count: number }[];
  bucket: string | null;
  items: { id: number; status: string; dueAt: string | null; reportedAt: string; gridName: string }[];
}

/** Throws, saying what differs, unless both answers hold the same buckets (in order), counts, bucket and items. */
export function sameQueue(wangge: QueueAnswer, raw: QueueAnswer): void {
  const buckets = (a: QueueAnswer) => a.buckets.map((b) => `${b.key}=${b.count}`).join(',');
  const items = (a: QueueAnswer) =>
    a.items.map((i) => `${i.id}:${i.status}:${i.dueAt}:${i.reportedAt}:${i.gridName}`).join(',');
  if (buckets(wangge) !== buckets(raw))
    throw new Error(`queues differ in buckets: wangge ${buckets(wangge)}, raw ${buckets(raw)}`);
  if (wangge.bucket !== raw.bucket)
    throw new Error(`queues differ in the chosen bucket: wangge ${wangge.bucket}, raw ${raw.bucket}`);
  if (items(wangge) !== items(raw))
    throw new Error(`queues differ in items:\n wangge ${items(wangge)}\n raw    ${items(raw)}`);
  if (wangge.items.length === 0) throw new Error('the queue is empty: nothing is compared or measured');
}
