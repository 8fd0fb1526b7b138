import { useEffect, useState } from 'react';
import { t } from './i18n.ts';
import { liveKeys, useStreamState, type AlertSummary } from './live.ts';
import { useCache } from './store.ts';

/** A China-time "MM-DD HH:mm" of an ISO instant. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(new Date(iso).getTime() + 8 * 3600_000).toISOString().slice(5, 16).replace('T', ' ');
}

/** An object URL for a Blob (revoked when it changes or the component goes). */
export function useBlobUrl(blob: Blob | undefined | null): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!blob) return setUrl(null);
    const u = URL.createObjectURL(blob);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [blob]);
  return url;
}

export const alertKinds: Record<string, string> = { missing_person: '走失人员', emergency: '紧急事件' };

/** 紧急协查: every open alert of my area, in red above every screen, until it is closed. */
export function AlertBanners({ current }: { current: number | null }) {
  const alerts = useCache<AlertSummary[]>(liveKeys.alerts);
  const open = (alerts ?? []).filter((a) => a.status === 'open');
  if (open.length === 0) return null;
  return (
    <div className="alerts">
      {open.map((a) => (
        <AlertBanner key={a.id} alert={a} here={a.id === current} />
      ))}
    </div>
  );
}

function AlertBanner({ alert, here }: { alert: AlertSummary; here: boolean }) {
  const photo = useBlobUrl(useCache<Blob>(liveKeys.alertPhoto(alert.id)));
  const seen = [alert.lastSeen.place, alert.lastSeen.at ? when(alert.lastSeen.at) : null].filter(Boolean);
  return (
    <section className="alert-banner" role="alert" data-testid="alert-banner" data-alert-id={alert.id}>
      {photo && <img src={photo} alt={t('照片')} data-testid="alert-banner-photo" />}
      <div className="alert-text">
        <strong>
          {t('紧急协查')} · {t(alertKinds[alert.kind] ?? alert.kind)}：{alert.title}
        </strong>
        {seen.length > 0 && (
          <div className="small">
            {t('最后出现')}：{seen.join(' · ')}
          </div>
        )}
        {!here && <div className="small clamp">{alert.description}</div>}
      </div>
      {!here && (
        <a className="alert-open" href={`#/alert/${alert.id}`} data-testid="alert-open">
          {t('查看')}
        </a>
      )}
    </section>
  );
}

/** A dot in the header: the staff stream is open (green), connecting (amber) or off. */
export function LiveDot() {
  const state = useStreamState();
  const label = state === 'live' ? t('实时') : state === 'connecting' ? t('连接中') : t('未连接');
  return (
    <span
      className={`live-dot ${state}`}
      data-testid="live"
      data-state={state}
      title={label}
      role="img"
      aria-label={label}
    >
      <i />
    </span>
  );
}
