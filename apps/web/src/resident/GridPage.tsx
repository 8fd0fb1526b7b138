import type { PublicGridPage } from '@wangge/contracts';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, HttpError, streamUrl, type PublicAlert, type PublicNotice } from './api.ts';
import type { Navigate } from './App.tsx';
import { colon, describeError, language, t, when } from './i18n.ts';
import { Icon } from './icons.tsx';
import { PollCard } from './PollCard.tsx';

/**
 * 网格主页: the grid, its worker, open alerts (red, with photo and last-seen place and time), closed ones as
 * found / lifted without the photo, public notices newest first and open polls — kept live by the grid's
 * event stream (EventSource resumes with Last-Event-ID by itself after a drop).
 */
export function GridPage({
  code,
  navigate,
  onGrid,
}: {
  code: string;
  navigate: Navigate;
  onGrid: (name: string | null) => void;
}) {
  const [page, setPage] = useState<PublicGridPage | null>(null);
  const [error, setError] = useState<{ status: number; text: string } | null>(null);
  const [live, setLive] = useState<'connecting' | 'open' | 'down'>('connecting');
  const loading = useRef(false);
  const again = useRef(false);

  const load = useCallback(async () => {
    // one load at a time; events arriving meanwhile trigger one more
    if (loading.current) {
      again.current = true;
      return;
    }
    loading.current = true;
    try {
      do {
        again.current = false;
        const next = await api('publicGridPage', { params: { code } });
        setPage(next);
        setError(null);
        onGrid(next.grid.name);
      } while (again.current);
    } catch (e) {
      setError({ status: e instanceof HttpError ? e.status : 0, text: describeError(e) });
    } finally {
      loading.current = false;
    }
  }, [code, onGrid]);

  useEffect(() => {
    void load();
    if (typeof EventSource === 'undefined') return;
    const source = new EventSource(streamUrl(code));
    const refresh = () => void load();
    source.addEventListener('notice', refresh);
    source.addEventListener('alert', refresh);
    source.onopen = () => setLive('open');
    source.onerror = () => setLive(source.readyState === EventSource.CLOSED ? 'down' : 'connecting');
    return () => source.close();
  }, [code, load]);

  if (error && !page)
    return (
      <div className="card" role="alert">
        <p className="error">{error.status === 404 ? t('网格不存在') : error.text}</p>
        <button type="button" className="secondary big" onClick={() => void load()}>
          {t('重试')}
        </button>
      </div>
    );
  if (!page) return <p className="muted">{t('加载中')}</p>;

  const open = page.alerts.filter((a) => a.status === 'open');
  const closed = page.alerts.filter((a) => a.status === 'closed');
  const polls = page.polls;
  return (
    <div data-testid="grid-page" data-live={live}>
      {open.map((a) => (
        <AlertCard key={a.id} alert={a} />
      ))}
      <section className="hero" aria-labelledby="grid-name">
        <h1 id="grid-name">{page.grid.name}</h1>
        {page.grid.communityName && <p className="sub">{page.grid.communityName}</p>}
        {page.workers.length > 0 && (
          <p className="sub">
            {t('网格员')}
            {colon()}
            <strong>{page.workers.map((w) => w.displayName).join(language() === 'en' ? ', ' : '、')}</strong>
          </p>
        )}
        <p className={`live ${live}`} aria-live="polite">
          {live === 'open' ? `● ${t('实时更新中')}` : live === 'down' ? t('连接中断') : ''}
        </p>
      </section>

      {closed.map((a) => (
        <ClosedAlert key={a.id} alert={a} />
      ))}

      <div className="actions">
        <button type="button" className="primary big" onClick={() => navigate('report')}>
          <Icon name="camera" /> {t('随手拍')}
        </button>
        <button type="button" className="secondary big" onClick={() => navigate('wish')}>
          <Icon name="heart" /> {t('我的心愿')}
        </button>
      </div>

      <section aria-labelledby="notices-title">
        <h2 id="notices-title">{t('通知公告')}</h2>
        {page.notices.length === 0 && <p className="muted">{t('暂无通知')}</p>}
        <ul className="list" data-testid="notices">
          {page.notices.map((n) => (
            <NoticeItem key={n.id} notice={n} />
          ))}
        </ul>
      </section>

      {polls.length > 0 && (
        <section aria-labelledby="polls-title">
          <h2 id="polls-title">{t('投票')}</h2>
          {polls.map((p) => (
            <PollCard key={p.id} poll={p} gridCode={code} navigate={navigate} />
          ))}
        </section>
      )}
    </div>
  );
}

function AlertCard({ alert }: { alert: PublicAlert }) {
  return (
    <article className="alert" data-testid="alert-open" aria-labelledby={`alert-${alert.id}`}>
      <p className="alert-kind">
        <Icon name="warn" size={18} /> {t('紧急协查')} ·{' '}
        {t(alert.kind === 'missing_person' ? '寻人' : '突发事件')}
      </p>
      <h2 id={`alert-${alert.id}`}>{alert.title}</h2>
      <div className={alert.photoUrl ? 'alert-body with-photo' : 'alert-body'}>
        {alert.photoUrl && <img src={alert.photoUrl} alt={alert.title} className="alert-photo" />}
        <div>
          {(alert.lastSeenPlace || alert.lastSeenAt) && (
            <dl className="last-seen">
              <dt>{t('最后出现')}</dt>
              {alert.lastSeenPlace && (
                <dd>
                  <Icon name="pin" size={16} /> {alert.lastSeenPlace}
                </dd>
              )}
              {alert.lastSeenAt && <dd>{when(alert.lastSeenAt)}</dd>}
            </dl>
          )}
          <p className="alert-text">{alert.description}</p>
        </div>
      </div>
      {alert.kind === 'missing_person' && <p className="alert-foot">{t('如有线索请联系网格员')}</p>}
    </article>
  );
}

function ClosedAlert({ alert }: { alert: PublicAlert }) {
  return (
    <article className="alert-closed" data-testid="alert-closed">
      <span className={`tag ${alert.outcome === 'found' ? 'ok' : 'muted'}`}>
        {t(alert.outcome === 'found' ? '已找到' : '已解除')}
      </span>{' '}
      <strong>{alert.title}</strong> <span className="muted">{when(alert.closedAt)}</span>
    </article>
  );
}

function NoticeItem({ notice }: { notice: PublicNotice }) {
  const [openBody, setOpenBody] = useState(false);
  const long = notice.body.length > 120;
  return (
    <li className="notice">
      <h3>{notice.title}</h3>
      <p className="muted small">{when(notice.publishedAt)}</p>
      <p className="body">{long && !openBody ? `${notice.body.slice(0, 120)}…` : notice.body}</p>
      {long && (
        <button
          type="button"
          className="link"
          onClick={() => setOpenBody(!openBody)}
          aria-expanded={openBody}
        >
          {openBody ? '▲' : '▼'}
        </button>
      )}
      {notice.attachmentUrls.map((url) => (
        <img key={url} src={url} alt="" className="notice-img" loading="lazy" />
      ))}
      {notice.documents.length > 0 && (
        <ul className="notice-docs">
          {notice.documents.map((d) => (
            <li key={d.url}>
              <a href={d.url} download={d.fileName} data-testid="notice-document">
                📄 {d.fileName}
              </a>{' '}
              <span className="muted small">
                {d.bytes >= 1024 * 1024
                  ? `${(d.bytes / (1024 * 1024)).toFixed(1)} MB`
                  : `${Math.max(1, Math.round(d.bytes / 1024))} KB`}
              </span>
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}
