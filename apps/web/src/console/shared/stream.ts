import { useQueryClient } from '@tanstack/react-query';
import { CaseStreamEventSchema, type CaseStreamEvent } from '@wangge/contracts';
import { useEffect, useRef, useState } from 'react';

type Listener = (event: CaseStreamEvent) => void;
const listeners = new Set<Listener>();

/**
 * One EventSource per tab on `/api/stream`. The browser resends `Last-Event-ID` when it reconnects, so a dropped
 * connection misses nothing. Every case event invalidates the queries that show cases (queues, lists, the case,
 * KPIs); pages may also listen with `useCaseEvents`.
 */
export function useLiveUpdates(enabled: boolean): 'connecting' | 'open' | 'closed' {
  const queryClient = useQueryClient();
  const [state, setState] = useState<'connecting' | 'open' | 'closed'>('connecting');
  useEffect(() => {
    if (!enabled) return;
    const source = new EventSource('/api/stream');
    source.onopen = () => setState('open');
    source.onerror = () => setState(source.readyState === EventSource.CLOSED ? 'closed' : 'connecting');
    source.addEventListener('case', (message) => {
      const parsed = CaseStreamEventSchema.safeParse(JSON.parse((message as MessageEvent<string>).data));
      if (!parsed.success) return;
      const event = parsed.data;
      void queryClient.invalidateQueries({ queryKey: ['queue'] });
      void queryClient.invalidateQueries({ queryKey: ['cases'] });
      void queryClient.invalidateQueries({ queryKey: ['case', event.caseId] });
      void queryClient.invalidateQueries({ queryKey: ['regionStats'] });
      for (const listener of listeners) listener(event);
    });
    return () => {
      source.close();
      setState('closed');
    };
  }, [enabled, queryClient]);
  return state;
}

/** Calls `onEvent` for every case event the signed-in user may see. */
export function useCaseEvents(onEvent: Listener): void {
  const ref = useRef(onEvent);
  ref.current = onEvent;
  useEffect(() => {
    const listener: Listener = (e) => ref.current(e);
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, []);
}
