import { useEffect, useState } from 'react';
import { alertKinds, useBlobUrl, when } from './AlertBanner.tsx';
import { currentPosition, type Fix } from './geo.ts';
import { t } from './i18n.ts';
import {
  acknowledgeAlert,
  liveKeys,
  refreshAlert,
  reportSighting,
  type AlertDetail,
  type AlertSummary,
} from './live.ts';
import { compressPhoto } from './photo.ts';
import { cacheKeys, db, useCache, useLive, type FieldTasks } from './store.ts';

/** datetime-local's value for now, in the phone's time zone. */
function localNow(): string {
  const d = new Date();
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/** 紧急协查: the alert, 确认收到 for each of my grids, 报告线索, and the sightings so far. */
export default function AlertPage({ id }: { id: number }) {
  const detail = useCache<AlertDetail>(liveKeys.alert(id));
  const list = useCache<AlertSummary[]>(liveKeys.alerts);
  const tasks = useCache<FieldTasks>(cacheKeys.tasks);
  const photo = useBlobUrl(useCache<Blob>(liveKeys.alertPhoto(id)));
  const mine = useLive(
    () =>
      db.outbox
        .filter(
          (i) =>
            (i.kind === 'alertAck' || i.kind === 'sighting') &&
            i.payload.alertId === id &&
            i.status !== 'sent',
        )
        .toArray(),
    [id],
    [],
  );
  useEffect(() => {
    if (navigator.onLine) void refreshAlert(id);
  }, [id]);

  const alert: AlertSummary | undefined = detail ?? list?.find((a) => a.id === id);
  if (!alert) return <p className="muted">{t('无数据')}</p>;
  const open = alert.status === 'open';
  const myGrids = tasks?.grids ?? [];
  const grids = detail
    ? detail.grids.filter((g) => myGrids.some((m) => m.code === g.gridCode))
    : myGrids.map((g) => ({
        gridCode: g.code,
        gridName: g.name,
        acknowledgedAt: null,
        acknowledgedBy: null,
      }));
  const pendingAck = (code: string) => mine.some((i) => i.kind === 'alertAck' && i.payload.gridCode === code);
  const pendingSightings = mine.filter((i) => i.kind === 'sighting');

  return (
    <div className="stack" data-testid="alert-page" data-alert-id={id} data-status={alert.status}>
      <section className={open ? 'card alert-card' : 'card'}>
        <div className="row">
          <span className="tag urgent">{t(alertKinds[alert.kind] ?? alert.kind)}</span>
          {!open && (
            <strong className="outcome" data-testid="alert-outcome">
              {alert.outcome === 'found' ? t('已找到') : t('已解除')} · {when(alert.closedAt)}
            </strong>
          )}
        </div>
        <h2>{alert.title}</h2>
        {open && photo && alert.hasPhoto && <img className="alert-photo" src={photo} alt={t('照片')} />}
        {(alert.lastSeen.place || alert.lastSeen.at) && (
          <p>
            <b>{t('最后出现')}：</b>
            {[alert.lastSeen.place, alert.lastSeen.at ? when(alert.lastSeen.at) : null]
              .filter(Boolean)
              .join(' · ')}
          </p>
        )}
        <p className="pre">{alert.description}</p>
        <p className="small muted">
          {t('发布')} {when(alert.createdAt)} · {t('已确认')} {alert.acknowledgedCount}/{alert.gridCount} ·{' '}
          {t('线索')} {alert.sightingCount}
        </p>
      </section>

      <section className="card">
        <h2>{t('确认收到')}</h2>
        {grids.length === 0 && <p className="muted">{t('暂无')}</p>}
        <ul className="list">
          {grids.map((g) => (
            <li key={g.gridCode} data-testid="alert-grid" data-grid={g.gridCode}>
              <div className="row">
                <span>
                  {g.gridName} <span className="muted small">{g.gridCode}</span>
                </span>
                {g.acknowledgedAt ? (
                  <span className="tag ok" data-testid="alert-acked">
                    {t('已确认')} {when(g.acknowledgedAt)}
                  </span>
                ) : pendingAck(g.gridCode) ? (
                  <span className="tag pending" data-testid="alert-acked">
                    {t('已确认')}（{t('待同步')}）
                  </span>
                ) : !open ? (
                  <span className="tag">{t('未确认')}</span>
                ) : (
                  <button
                    type="button"
                    className="primary"
                    data-testid="alert-ack"
                    data-grid={g.gridCode}
                    onClick={() => void acknowledgeAlert(id, g.gridCode, alert.title)}
                  >
                    {t('确认收到')}
                  </button>
                )}
              </div>
            </li>
          ))}
        </ul>
      </section>

      {open && <SightingForm alertId={id} title={alert.title} />}

      <section className="card">
        <h2>
          {t('线索')}{' '}
          <span className="count">{(detail?.sightings.length ?? 0) + pendingSightings.length}</span>
        </h2>
        <ul className="list">
          {pendingSightings.map((i) => {
            const s = i.payload.sighting as { note: string; seenAt: string };
            return (
              <li key={i.id} data-testid="sighting" data-pending="true">
                <div className="row">
                  <strong>{s.note}</strong>
                  <span className="tag pending">{i.status === 'failed' ? t('失败') : t('待同步')}</span>
                </div>
                <div className="small muted">{when(s.seenAt)}</div>
              </li>
            );
          })}
          {[...(detail?.sightings ?? [])].reverse().map((s) => (
            <li key={s.id} data-testid="sighting">
              <div className="row">
                <strong>{s.note}</strong>
                {s.hasPhoto && <span className="tag">{t('照片')}</span>}
              </div>
              <div className="small muted">
                {when(s.seenAt)} · {s.reportedBy}
                {s.gridCode ? ` · ${s.gridCode}` : ''} · {s.location.lat.toFixed(5)},{' '}
                {s.location.lng.toFixed(5)}
              </div>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

function SightingForm({ alertId, title }: { alertId: number; title: string }) {
  const [note, setNote] = useState('');
  const [seenAt, setSeenAt] = useState(localNow);
  const [fix, setFix] = useState<Fix | null>(null);
  const [locating, setLocating] = useState(false);
  const [geoError, setGeoError] = useState<string | null>(null);
  const [photo, setPhoto] = useState<Blob | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const preview = useBlobUrl(photo);
  const locate = () => {
    setLocating(true);
    setGeoError(null);
    currentPosition()
      .then(setFix)
      .catch((e: Error) => setGeoError(e.message))
      .finally(() => setLocating(false));
  };
  useEffect(locate, []);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!note.trim()) return setMessage({ ok: false, text: t('请填写线索') });
    if (!fix) return setMessage({ ok: false, text: t('需要位置') });
    const at = new Date(seenAt);
    await reportSighting(alertId, title, {
      note: note.trim(),
      location: { lng: fix.lng, lat: fix.lat, accuracy: fix.accuracy },
      seenAt: (Number.isNaN(at.getTime()) ? new Date() : at).toISOString(),
      photo,
    });
    setNote('');
    setPhoto(null);
    setSeenAt(localNow());
    setMessage({ ok: true, text: t('已保存待同步') });
  };

  return (
    <form className="card" onSubmit={(e) => void submit(e)} data-testid="sighting-form">
      <h2>{t('报告线索')}</h2>
      <label htmlFor="sighting-note">{t('线索描述')}</label>
      <textarea
        id="sighting-note"
        rows={3}
        maxLength={1000}
        value={note}
        onChange={(e) => setNote(e.target.value)}
      />
      <label htmlFor="sighting-time">{t('发现时间')}</label>
      <input
        id="sighting-time"
        type="datetime-local"
        value={seenAt}
        onChange={(e) => setSeenAt(e.target.value)}
      />
      <p data-testid="sighting-gps">
        {locating
          ? t('定位中')
          : fix
            ? `${fix.lat.toFixed(5)}, ${fix.lng.toFixed(5)} · ${t('精度')} ±${fix.accuracy} m`
            : `${t('无法定位')} ${geoError ?? ''}`}
      </p>
      <div className="row gap">
        <button type="button" className="secondary" onClick={locate}>
          {t('获取位置')}
        </button>
        <label className="file secondary-file">
          {photo ? t('换一张照片') : t('拍照')}
          <input
            type="file"
            accept="image/*"
            capture="environment"
            data-testid="sighting-photo-input"
            onChange={(e) => {
              const f = e.target.files?.[0];
              e.target.value = '';
              if (f) void compressPhoto(f).then(setPhoto);
            }}
          />
        </label>
      </div>
      {preview && (
        <div className="thumbs" data-testid="sighting-photo" data-count={1}>
          <button type="button" className="thumb" onClick={() => setPhoto(null)} aria-label="remove">
            <img src={preview} alt="" />
          </button>
        </div>
      )}
      {message && (
        <p role="status" className={message.ok ? 'ok' : 'error'}>
          {message.text}
        </p>
      )}
      <button type="submit" className="primary big" data-testid="sighting-submit">
        {t('提交线索')}
      </button>
    </form>
  );
}
