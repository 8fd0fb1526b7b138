import { useEffect } from 'react';
import type { Notice } from '@wangge/contracts';
import { when } from './AlertBanner.tsx';
import { t } from './i18n.ts';
import { acknowledgeNotice, liveKeys, openNotice, type MyNotices } from './live.ts';
import { cacheKeys, db, useCache, useLive, type FieldTasks } from './store.ts';

/** 通知: the notice (opening it marks it read) and 已转达 for each of my grids that received it. */
export default function NoticePage({ id }: { id: number }) {
  const mine = useCache<MyNotices>(liveKeys.notices);
  const single = useCache<Notice>(liveKeys.notice(id));
  const tasks = useCache<FieldTasks>(cacheKeys.tasks);
  const pending = useLive(
    () =>
      db.outbox
        .filter((i) => i.kind === 'noticeAck' && i.payload.noticeId === id && i.status !== 'sent')
        .toArray(),
    [id],
    [],
  );
  useEffect(() => {
    void openNotice(id);
  }, [id]);

  const item = mine?.items.find((n) => n.id === id);
  const notice: Notice | undefined = item ?? single;
  if (!notice) return <p className="muted">{t('无数据')}</p>;
  const gridName = (code: string) => tasks?.grids.find((g) => g.code === code)?.name ?? code;
  return (
    <div className="stack" data-testid="notice-page" data-notice-id={id}>
      <section className="card">
        <h2>{notice.title}</h2>
        <p className="small muted">
          {t('发布')} {when(notice.publishedAt ?? notice.publishAt)}
        </p>
        <p className="pre" data-testid="notice-body">
          {notice.body}
        </p>
      </section>
      <section className="card">
        <h2>{t('已转达')}</h2>
        <p className="small muted">{t('向网格群众转达后，逐个网格确认。')}</p>
        {(item?.grids ?? []).length === 0 && <p className="muted">{t('无需转达')}</p>}
        <ul className="list">
          {(item?.grids ?? []).map((g) => (
            <li key={g.gridCode} data-testid="notice-grid" data-grid={g.gridCode}>
              <div className="row">
                <span>
                  {gridName(g.gridCode)} <span className="muted small">{g.gridCode}</span>
                </span>
                {g.acknowledgedAt ? (
                  <span className="tag ok" data-testid="notice-acked">
                    {t('已转达')} {when(g.acknowledgedAt)}
                  </span>
                ) : pending.some((i) => i.payload.gridCode === g.gridCode) ? (
                  <span className="tag pending" data-testid="notice-acked">
                    {t('已转达')}（{t('待同步')}）
                  </span>
                ) : (
                  <button
                    type="button"
                    className="primary"
                    data-testid="notice-ack"
                    data-grid={g.gridCode}
                    onClick={() => void acknowledgeNotice(id, g.gridCode, notice.title)}
                  >
                    {t('已转达')}
                  </button>
                )}
              </div>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
