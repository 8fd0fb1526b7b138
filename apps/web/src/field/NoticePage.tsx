import { useEffect, useState } from 'react';
import type { Notice } from '@wangge/contracts';
import { useBlobUrl, when } from './AlertBanner.tsx';
import { fetchImage } from './api.ts';
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
        <Attachments notice={notice} />
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

function sizeOf(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

const attachmentPath = (noticeId: number, attachmentId: number) =>
  `/api/notices/${noticeId}/attachments/${attachmentId}`;

/** The notice's images (fetched with the token) and documents (downloaded with the token when tapped). */
function Attachments({ notice }: { notice: Notice }) {
  // a notice cached before documents existed has no `kind`: its attachments are images
  const images = notice.attachments.filter((a) => a.kind !== 'document');
  const documents = notice.attachments.filter((a) => a.kind === 'document');
  if (!images.length && !documents.length) return null;
  return (
    <div data-testid="notice-attachments">
      {images.length > 0 && (
        <div className="row" style={{ flexWrap: 'wrap', gap: 8, justifyContent: 'flex-start' }}>
          {images.map((a) => (
            <NoticeImage key={a.id} path={attachmentPath(notice.id, a.id)} />
          ))}
        </div>
      )}
      {documents.length > 0 && (
        <ul className="list">
          {documents.map((a) => (
            <DocumentLink
              key={a.id}
              path={attachmentPath(notice.id, a.id)}
              name={a.fileName ?? `${t('附件')} ${a.id}`}
              bytes={a.bytes}
            />
          ))}
        </ul>
      )}
    </div>
  );
}

function NoticeImage({ path }: { path: string }) {
  const [blob, setBlob] = useState<Blob | null>(null);
  useEffect(() => {
    let live = true;
    void fetchImage(path).then((b) => live && setBlob(b));
    return () => {
      live = false;
    };
  }, [path]);
  const url = useBlobUrl(blob);
  return url ? (
    <img src={url} alt={t('附件')} style={{ width: 96, height: 72, objectFit: 'cover', borderRadius: 4 }} />
  ) : null;
}

/** A document: fetched with the bearer token (a plain link cannot send it), then saved from a blob URL. */
function DocumentLink({ path, name, bytes }: { path: string; name: string; bytes: number }) {
  const [state, setState] = useState<'idle' | 'loading' | 'failed'>('idle');
  const download = async () => {
    setState('loading');
    const blob = await fetchImage(path);
    if (!blob) {
      setState('failed');
      return;
    }
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    setState('idle');
  };
  return (
    <li data-testid="notice-document">
      <div className="row">
        <button type="button" className="link" onClick={() => void download()} disabled={state === 'loading'}>
          📄 {name}
        </button>
        <span className="small muted">{state === 'loading' ? t('加载中…') : sizeOf(bytes)}</span>
      </div>
      {state === 'failed' && <p className="small error">{t('下载失败，请联网后重试。')}</p>}
    </li>
  );
}
