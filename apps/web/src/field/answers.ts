import { newItem, type OutboxItem } from './db.ts';

/** The outbox items that answer an alert or a notice (built here, sent by outbox.ts). */

/** 确认收到 for one grid: one item per alert and grid on the phone (the server keeps the first anyway). */
export function alertAckItem(alertId: number, gridCode: string, title: string, now = Date.now()): OutboxItem {
  return newItem(
    {
      id: `alert-ack:${alertId}:${gridCode}`,
      kind: 'alertAck',
      label: `确认收到：${title}（${gridCode}）`,
      payload: { alertId, gridCode },
    },
    now,
  );
}

/** 已转达 for one grid. */
export function noticeAckItem(
  noticeId: number,
  gridCode: string,
  title: string,
  now = Date.now(),
): OutboxItem {
  return newItem(
    {
      id: `notice-ack:${noticeId}:${gridCode}`,
      kind: 'noticeAck',
      label: `已转达：${title}（${gridCode}）`,
      payload: { noticeId, gridCode },
    },
    now,
  );
}

export interface SightingInput {
  note: string;
  location: { lng: number; lat: number; accuracy: number };
  /** ISO instant */
  seenAt: string;
  photo: Blob | null;
}

/** 报告线索: the sighting (its item id is its clientId), then its photo in the same chain. */
export function sightingItems(
  alertId: number,
  title: string,
  input: SightingInput,
  clientId: string,
  photoItemId: string,
  now = Date.now(),
): OutboxItem[] {
  const items = [
    newItem(
      {
        id: clientId,
        kind: 'sighting',
        label: `线索：${title}`,
        payload: {
          alertId,
          sighting: {
            clientId,
            note: input.note,
            location: { ...input.location, crs: 'wgs84' },
            seenAt: input.seenAt,
          },
        },
      },
      now,
    ),
  ];
  if (input.photo)
    items.push(
      newItem(
        {
          id: photoItemId,
          chain: clientId,
          kind: 'sightingPhoto',
          label: `线索照片：${title}`,
          payload: { alertId, sightingClientId: clientId },
          photos: [input.photo],
        },
        now + 1,
      ),
    );
  return items;
}
