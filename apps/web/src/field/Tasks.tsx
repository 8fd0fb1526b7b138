import { t } from './i18n.ts';
import { cacheKeys, refreshCaches, useCache, type FieldTasks } from './store.ts';
import { go } from './App.tsx';
import { when } from './AlertBanner.tsx';
import { liveKeys, refreshAlerts, refreshNotices, type MyNotices } from './live.ts';

function day(s: string | null): string {
  return s ? s.slice(0, 10) : '—';
}

export function Tasks() {
  const tasks = useCache<FieldTasks>(cacheKeys.tasks);
  if (!tasks) return <p className="muted">{t('无数据')}</p>;
  return (
    <div className="stack">
      <Notices />
      <section className="card">
        <h2>{t('我的网格')}</h2>
        <ul className="plain">
          {tasks.grids.map((g) => (
            <li key={g.code} data-testid="my-grid" data-code={g.code}>
              {g.name} <span className="muted small">{g.code}</span>
            </li>
          ))}
        </ul>
      </section>
      <section className="card">
        <h2>
          {t('待核实')} / {t('待核查')} <span className="count">{tasks.cases.length}</span>
        </h2>
        {tasks.cases.length === 0 && <p className="muted">{t('暂无')}</p>}
        <ul className="list">
          {tasks.cases.map((c) => (
            <li key={c.id} className={c.overdue ? 'overdue' : ''}>
              <div className="row">
                <strong>{c.title}</strong>
                <span className={`tag ${c.task}`}>{c.task === 'verify' ? t('待核实') : t('待核查')}</span>
              </div>
              <div className="muted small">
                {c.serial} · {c.address ?? c.gridName}
              </div>
              <div className="small">
                {c.overdue ? <b className="bad">{t('已超期')}</b> : t('到期')} {day(c.dueAt)}
              </div>
            </li>
          ))}
        </ul>
      </section>
      <section className="card">
        <h2>
          {t('待走访')} <span className="count">{tasks.visits.length}</span>
        </h2>
        <ul className="list">
          {tasks.visits.slice(0, 30).map((v) => (
            <li
              key={v.householdId}
              className={v.status === 'overdue' ? 'overdue' : ''}
              onClick={() => go('visits')}
            >
              <div className="row">
                <strong>{v.householdLabel}</strong>
                {v.monthly && <span className="tag monthly">{t('月访')}</span>}
              </div>
              <div className="small">
                {v.status === 'overdue' ? <b className="bad">{t('已超期')}</b> : t('到期')} {v.dueBy}
              </div>
            </li>
          ))}
        </ul>
      </section>
      <button
        type="button"
        className="secondary"
        onClick={() => void Promise.all([refreshCaches(), refreshAlerts(), refreshNotices()])}
      >
        {t('刷新')}
      </button>
    </div>
  );
}

/** 待转达通知: notices to me still unread or not yet relayed (已转达) for one of my grids; unread first. */
function Notices() {
  const mine = useCache<MyNotices>(liveKeys.notices);
  const items = (mine?.items ?? []).filter((n) => !n.readAt || n.grids.some((g) => !g.acknowledgedAt));
  return (
    <section className="card" data-testid="notices">
      <h2>
        {t('待转达通知')}{' '}
        <span className={mine?.unread ? 'count unread' : 'count'} data-testid="notice-unread">
          {mine?.unread ?? 0}
        </span>
      </h2>
      {items.length === 0 && <p className="muted">{t('暂无')}</p>}
      <ul className="list">
        {items.slice(0, 30).map((n) => {
          const relayed = n.grids.filter((g) => g.acknowledgedAt).length;
          return (
            <li
              key={n.id}
              data-testid="notice-item"
              data-notice-id={n.id}
              className={n.readAt ? '' : 'unread'}
            >
              <a className="item-link" href={`#/notice/${n.id}`}>
                <div className="row">
                  <strong>{n.title}</strong>
                  {!n.readAt && <span className="tag urgent">{t('未读')}</span>}
                </div>
                <div className="small muted">
                  {when(n.publishedAt)}
                  {n.grids.length > 0 && ` · ${t('已转达')} ${relayed}/${n.grids.length}`}
                </div>
              </a>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
