import { useQueryClient } from '@tanstack/react-query';
import { AlertStreamEventSchema, NoticeStreamEventSchema } from '@wangge/contracts';
import { useEffect, useState } from 'react';

export type LiveState = 'connecting' | 'open' | 'closed';

/** How often the notice and alert pages poll while the stream is not open (the fallback). */
export const pollWhenOffline = 15_000;

/**
 * Alert and notice events of the staff stream (`GET /api/stream`, `event: alert` / `event: notice`): each one
 * invalidates the queries that show it (the alert board, the notice's statistics, the lists). The layout's shared
 * stream only handles case events, so these pages hold their own EventSource while they are open; the browser
 * resends `Last-Event-ID` when it reconnects, so a dropped connection misses nothing.
 */
export function useNoticeLive(): LiveState {
  const queryClient = useQueryClient();
  const [state, setState] = useState<LiveState>('connecting');
  useEffect(() => {
    if (typeof EventSource === 'undefined') {
      setState('closed');
      return;
    }
    const source = new EventSource('/api/stream');
    source.onopen = () => setState('open');
    source.onerror = () => setState(source.readyState === EventSource.CLOSED ? 'closed' : 'connecting');
    const parse = (message: Event): unknown => {
      try {
        return JSON.parse((message as MessageEvent<string>).data);
      } catch {
        return null;
      }
    };
    source.addEventListener('alert', (message) => {
      const parsed = AlertStreamEventSchema.safeParse(parse(message));
      if (!parsed.success) return;
      void queryClient.invalidateQueries({ queryKey: ['alerts'] });
      void queryClient.invalidateQueries({ queryKey: ['alert', parsed.data.alertId] });
    });
    source.addEventListener('notice', (message) => {
      const parsed = NoticeStreamEventSchema.safeParse(parse(message));
      if (!parsed.success) return;
      void queryClient.invalidateQueries({ queryKey: ['notices'] });
      void queryClient.invalidateQueries({ queryKey: ['noticeStats', parsed.data.noticeId] });
    });
    return () => {
      source.close();
      setState('closed');
    };
  }, [queryClient]);
  return state;
}

/** The refetch interval of a live query: none while the stream is open, polling otherwise. */
export function fallbackInterval(state: LiveState): number | false {
  return state === 'open' ? false : pollWhenOffline;
}
