import { useEffect, useState } from 'react';
import type { Patrol as PatrolRow, PatrolTrack } from '@wangge/contracts';
import { api } from './api.ts';
import type { TrackPoint } from './db.ts';
import { t } from './i18n.ts';
import { startPatrol, stopPatrol, watch, type CurrentPatrol } from './patrol.ts';
import { cacheKeys, db, useCache, useLive, type FieldTasks } from './store.ts';

function hms(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  return `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

export default function Patrol() {
  const tasks = useCache<FieldTasks>(cacheKeys.tasks);
  const running = useCache<CurrentPatrol>(cacheKeys.patrol);
  const last = useCache<CurrentPatrol & { endedAt: number }>(cacheKeys.lastTrack);
  const shownPatrol = running ?? last;
  const [now, setNow] = useState(Date.now());
  const [outline, setOutline] = useState<PatrolTrack['gridOutline'] | null>(null);
  const [server, setServer] = useState<PatrolRow | null>(null);
  const points = useLive(
    () =>
      shownPatrol ? db.track.where('patrolId').equals(shownPatrol.id).sortBy('at') : Promise.resolve([]),
    [shownPatrol?.id],
    [] as TrackPoint[],
  );
  const waiting = useLive(
    async () => {
      const items = await db.outbox.where('status').equals('pending').toArray();
      return items
        .filter((i) => i.kind === 'patrolPoints')
        .reduce((n, i) => n + (i.payload.points as unknown[]).length, 0);
    },
    [],
    0,
  );
  useEffect(() => {
    if (running) watch();
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  useEffect(() => {
    const key = shownPatrol ? `outline:${shownPatrol.gridCode}` : null;
    if (!key || !shownPatrol) return;
    void db.getCache<PatrolTrack['gridOutline']>(key).then((o) => o && setOutline(o));
    if (!running && navigator.onLine)
      void api('patrolTrack', { params: { id: shownPatrol.id } })
        .then(async (track) => {
          setOutline(track.gridOutline);
          await db.setCache(key, track.gridOutline);
          setServer(await api('patrol', { params: { id: shownPatrol.id } }));
        })
        .catch(() => undefined);
  }, [shownPatrol?.id, running]);

  const grid = tasks?.grids[0];
  const duration = shownPatrol
    ? ((running ? now : (last?.endedAt ?? now)) - shownPatrol.startedAt) / 1000
    : 0;
  const distance = (shownPatrol?.distance ?? 0) + (running?.buffer ? 0 : 0);
  return (
    <div className="stack">
      <section className="card stats">
        <div>
          <span className="muted small">{t('时长')}</span>
          <b data-testid="patrol-duration">{hms(Math.max(0, duration))}</b>
        </div>
        <div>
          <span className="muted small">{t('距离')}</span>
          <b data-testid="patrol-distance">{Math.round(distance)} m</b>
        </div>
        <div>
          <span className="muted small">{t('待发送点')}</span>
          <b data-testid="patrol-waiting">{waiting + (running?.buffer.length ?? 0)}</b>
        </div>
      </section>
      {running ? (
        <button type="button" className="danger big" onClick={() => void stopPatrol()}>
          {t('结束巡查')}
        </button>
      ) : (
        <button
          type="button"
          className="primary big"
          disabled={!grid}
          onClick={() => grid && void startPatrol(grid.code)}
        >
          {t('开始巡查')} {grid ? `· ${grid.name}` : ''}
        </button>
      )}
      <section className="card">
        <h2>{t('今日轨迹')}</h2>
        <TrackSvg points={points} outline={outline} />
        {server && (
          <p className="small muted" data-testid="patrol-server">
            ✓ {server.pointCount} · {server.distanceMeters} m
            {server.flags.length > 0 && ` · ⚠ ${server.flags.map((f) => f.flag).join(', ')}`}
          </p>
        )}
      </section>
    </div>
  );
}

function TrackSvg({ points, outline }: { points: TrackPoint[]; outline: PatrolTrack['gridOutline'] | null }) {
  const ring = outline?.flat(1) ?? [];
  const all: [number, number][] = [...ring.flat(1), ...points.map((p) => [p.lng, p.lat] as [number, number])];
  if (all.length === 0) return <p className="muted">{t('暂无')}</p>;
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const size = 300;
  const span = Math.max(maxX - minX, maxY - minY, 1e-5);
  const k = (size - 20) / span;
  const px = (p: [number, number]) =>
    `${(10 + (p[0] - minX) * k).toFixed(1)},${(size - 10 - (p[1] - minY) * k).toFixed(1)}`;
  return (
    <svg
      viewBox={`0 0 ${size} ${size}`}
      className="track"
      data-testid="track"
      role="img"
      aria-label={t('今日轨迹')}
    >
      {ring.map((r, i) => (
        <polygon key={i} points={r.map(px).join(' ')} className="outline" />
      ))}
      {points.length > 1 && (
        <polyline points={points.map((p) => px([p.lng, p.lat])).join(' ')} className="line" />
      )}
      {points.map((p, i) => {
        const [x, y] = px([p.lng, p.lat]).split(',');
        return (
          <circle
            key={i}
            cx={x}
            cy={y}
            r={i === points.length - 1 ? 6 : 3}
            className={i === points.length - 1 ? 'here' : 'pt'}
          />
        );
      })}
    </svg>
  );
}
