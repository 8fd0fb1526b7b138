import { useState } from 'react';
import { go } from './App.tsx';
import type { OutboxItem, PersonFields } from './db.ts';
import { language, setLanguage, t, tl } from './i18n.ts';
import { personStatuses } from './labels.ts';
import { db, outbox, setToken, useLive, useSyncState } from './store.ts';

const fieldLabels: Record<keyof PersonFields, string> = {
  phone: '电话',
  currentAddress: '现住址',
  work: '工作单位',
  status: '状态',
};

function shown(field: keyof PersonFields, value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  if (field === 'status') return tl(personStatuses[value] ?? { zh: value, en: value });
  return value;
}

export function SyncScreen() {
  const state = useSyncState();
  const items = useLive(() => db.outbox.orderBy('createdAt').reverse().toArray(), [], [] as OutboxItem[]);
  const [note, setNote] = useState<string | null>(null);
  const [, setLang] = useState(language());
  const groups: [string, OutboxItem[]][] = [
    ['冲突', items.filter((i) => i.status === 'conflict')],
    ['失败', items.filter((i) => i.status === 'failed')],
    ['待发送', items.filter((i) => i.status === 'pending')],
    ['已发送', items.filter((i) => i.status === 'sent').slice(0, 50)],
  ];
  return (
    <div className="stack">
      <div className="row gap">
        <button
          type="button"
          className="primary big"
          onClick={() => void outbox.networkReturned()}
          disabled={state.running}
        >
          {state.running ? t('同步中') : t('立即同步')}
        </button>
        <button
          type="button"
          className="secondary big"
          onClick={() => {
            void outbox.resendAll().then((n) => setNote(`${t('全部重新发送')}：${n}`));
          }}
        >
          {t('全部重新发送')}
        </button>
      </div>
      {note && (
        <p role="status" className="ok">
          {note}
        </p>
      )}
      {groups.map(([title, list]) =>
        list.length === 0 ? null : (
          <section className="card" key={title} data-testid={`outbox-${title}`}>
            <h2>
              {t(title)} <span className="count">{list.length}</span>
            </h2>
            <ul className="list">
              {list.map((i) => (
                <li key={i.id} data-testid="outbox-item">
                  <div className="row">
                    <strong>{i.label}</strong>
                    <span className="muted small">{new Date(i.createdAt).toLocaleTimeString()}</span>
                  </div>
                  {i.progress && i.status !== 'sent' && (
                    <div className="small muted">
                      {i.progress.caseId ? `#${i.progress.caseId} · ` : ''}
                      {t('照片')} {i.progress.photoIds.filter((x) => x != null).length}/
                      {i.progress.photoIds.length}
                    </div>
                  )}
                  {i.lastError && i.status !== 'sent' && (
                    <div className={i.status === 'pending' ? 'small muted' : 'small bad'}>{i.lastError}</div>
                  )}
                  {i.status === 'conflict' && i.conflict && <ConflictForm item={i} />}
                  {i.status === 'failed' && (
                    <div className="row gap">
                      <button type="button" className="secondary" onClick={() => void outbox.retry(i.id)}>
                        {t('重试')}
                      </button>
                      <button type="button" className="danger" onClick={() => void outbox.remove(i.id)}>
                        {t('删除')}
                      </button>
                    </div>
                  )}
                </li>
              ))}
            </ul>
          </section>
        ),
      )}
      <section className="card">
        <h2>{t('语言')}</h2>
        <div className="row gap">
          {(['zh-CN', 'en'] as const).map((l) => (
            <button
              type="button"
              key={l}
              className={language() === l ? 'chip on' : 'chip'}
              onClick={() => {
                setLanguage(l);
                setLang(l);
                location.reload();
              }}
            >
              {l === 'zh-CN' ? '中文' : 'English'}
            </button>
          ))}
        </div>
      </section>
      <button
        type="button"
        className="danger big"
        onClick={() => {
          setToken(null);
          go('login');
          location.reload();
        }}
      >
        {t('退出登录')}
      </button>
    </div>
  );
}

function ConflictForm({ item }: { item: OutboxItem }) {
  const p = item.payload as { changes: PersonFields };
  const fields = Object.keys(p.changes) as (keyof PersonFields)[];
  const [choice, setChoice] = useState<Record<string, 'mine' | 'server'>>({});
  const server = item.conflict!.server;
  const serverValue = (f: keyof PersonFields) => (f === 'phone' ? server.phoneMasked : server[f]);
  return (
    <div className="conflict" data-testid="conflict">
      <h3>{t('解决冲突')}</h3>
      {fields.map((f) => (
        <fieldset key={f}>
          <legend>{t(fieldLabels[f])}</legend>
          <label className={choice[f] === 'mine' ? 'choice on' : 'choice'}>
            <input
              type="radio"
              name={`${item.id}-${f}`}
              checked={choice[f] === 'mine'}
              onChange={() => setChoice((c) => ({ ...c, [f]: 'mine' }))}
            />
            {t('我的')}：{shown(f, p.changes[f])}
          </label>
          <label className={choice[f] === 'server' ? 'choice on' : 'choice'}>
            <input
              type="radio"
              name={`${item.id}-${f}`}
              checked={choice[f] === 'server'}
              onChange={() => setChoice((c) => ({ ...c, [f]: 'server' }))}
            />
            {t('服务器')}：{shown(f, serverValue(f))}
          </label>
        </fieldset>
      ))}
      <button
        type="button"
        className="primary big"
        disabled={fields.some((f) => !choice[f])}
        onClick={() => void outbox.resolveConflict(item.id, choice)}
      >
        {t('提交选择')}
      </button>
    </div>
  );
}
