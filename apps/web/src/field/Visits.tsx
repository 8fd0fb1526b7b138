import { useState } from 'react';
import type { OfflineHousehold, OfflineMember, VisitKind, VisitNeed, VisitPlan } from '@wangge/contracts';
import { newItem, uuid, type PersonFields } from './db.ts';
import { currentPosition } from './geo.ts';
import { t, tl } from './i18n.ts';
import { personStatuses, visitKinds, visitNeeds } from './labels.ts';
import {
  cacheKeys,
  chinaToday,
  db,
  outbox,
  useCache,
  useLive,
  type FieldTasks,
  type OfflineGrid,
} from './store.ts';

export function Visits() {
  const tasks = useCache<FieldTasks>(cacheKeys.tasks);
  const [grid, setGrid] = useState<string | null>(null);
  const code = grid ?? tasks?.grids[0]?.code ?? '';
  const offline = useCache<OfflineGrid>(cacheKeys.offline(code));
  const plan = useCache<VisitPlan>(cacheKeys.plan(code));
  const [open, setOpen] = useState<{
    household: OfflineHousehold;
    mode: 'visit' | { member: OfflineMember };
  } | null>(null);
  const [filter, setFilter] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const [more, setMore] = useState(false);
  const visitedToday = useLive(
    async () => {
      const items = await db.outbox
        .where('createdAt')
        .above(Date.now() - 24 * 3600_000)
        .toArray();
      return new Set(items.filter((i) => i.kind === 'visit').map((i) => Number(i.payload.householdId)));
    },
    [],
    new Set<number>(),
  );
  const mustVisit = (plan?.items ?? []).filter((i) => i.status !== 'done');
  const households = (offline?.households ?? []).filter((h) => !filter || h.label.includes(filter));

  if (open) {
    return open.mode === 'visit' ? (
      <VisitForm
        household={open.household}
        onDone={(m) => {
          setOpen(null);
          setMessage(m);
          window.scrollTo(0, 0);
        }}
      />
    ) : (
      <MemberForm
        household={open.household}
        member={open.mode.member}
        onDone={(m) => {
          setOpen(null);
          setMessage(m);
          window.scrollTo(0, 0);
        }}
      />
    );
  }
  return (
    <div className="stack">
      {(tasks?.grids.length ?? 0) > 1 && (
        <select aria-label={t('我的网格')} value={code} onChange={(e) => setGrid(e.target.value)}>
          {tasks?.grids.map((g) => (
            <option key={g.code} value={g.code}>
              {g.name}
            </option>
          ))}
        </select>
      )}
      {message && (
        <p role="status" className="ok">
          {message}
        </p>
      )}
      <section className="card">
        <h2>
          {t('必访')}{' '}
          {plan && (
            <span className="count">
              {plan.counts.overdue} {t('已超期')} · {plan.counts.due} {t('到期')}
            </span>
          )}
        </h2>
        <ul className="list">
          {mustVisit.slice(0, more ? 200 : 5).map((v) => (
            <li
              key={v.householdId}
              className={v.status === 'overdue' ? 'overdue' : ''}
              onClick={() => {
                const household = offline?.households.find((h) => h.id === v.householdId);
                if (household) setOpen({ household, mode: 'visit' });
              }}
            >
              <div className="row">
                <strong>{v.householdLabel}</strong>
                {v.monthly && <span className="tag monthly">{t('月访')}</span>}
                {visitedToday.has(v.householdId) && <span className="tag ok">✓</span>}
              </div>
              <div className="small">
                {v.status === 'overdue' ? <b className="bad">{t('已超期')}</b> : t('到期')} {v.dueBy}
                {v.followUpOn && ` · ${t('回访日期')} ${v.followUpOn}`}
              </div>
            </li>
          ))}
          {mustVisit.length === 0 && <li className="muted">{t('暂无')}</li>}
        </ul>
        {!more && mustVisit.length > 5 && (
          <button type="button" className="link" onClick={() => setMore(true)}>
            {t('更多')} ({mustVisit.length - 5})
          </button>
        )}
      </section>
      <section className="card">
        <h2>
          {t('住户')} <span className="count">{offline?.households.length ?? 0}</span>
        </h2>
        <p className="muted small">
          {t('离线副本')} · {t('更新于')} {offline ? new Date(offline.generatedAt).toLocaleString() : '—'}
        </p>
        <input
          type="search"
          aria-label={t('住户')}
          placeholder={t('住户')}
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
        <ul className="list">
          {households.slice(0, 60).map((h) => (
            <li key={h.id} data-testid="household">
              <div className="row">
                <strong>{h.label}</strong>
                {h.monthly && <span className="tag monthly">{t('月访')}</span>}
              </div>
              <ul className="members">
                {h.members.map((m) => (
                  <li key={m.id}>
                    <span>
                      {m.name} · {m.phoneMasked ?? '—'}
                    </span>
                    <button
                      type="button"
                      className="link"
                      onClick={() => setOpen({ household: h, mode: { member: m } })}
                    >
                      {t('修改')}
                    </button>
                  </li>
                ))}
              </ul>
              <button
                type="button"
                className="secondary"
                onClick={() => setOpen({ household: h, mode: 'visit' })}
              >
                {t('记录走访')}
              </button>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

function VisitForm({ household, onDone }: { household: OfflineHousehold; onDone: (m: string) => void }) {
  const [kind, setKind] = useState<VisitKind>('routine');
  const [notes, setNotes] = useState('');
  const [needs, setNeeds] = useState<VisitNeed[]>([]);
  const [followUpOn, setFollowUpOn] = useState('');
  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    const clientId = uuid();
    const location = await currentPosition(5_000).catch(() => null);
    await outbox.add(
      newItem({
        id: clientId,
        kind: 'visit',
        label: `${t('走访')}：${household.label}`,
        payload: {
          householdId: household.id,
          visit: {
            clientId,
            householdId: household.id,
            kind,
            visitedAt: new Date().toISOString(),
            notes,
            needs: needs.map((k) => ({ kind: k, text: '' })),
            ...(followUpOn ? { followUpOn } : {}),
            ...(location
              ? { location: { lng: location.lng, lat: location.lat, accuracy: location.accuracy } }
              : {}),
          },
        },
      }),
    );
    void outbox.sync();
    onDone(t('已保存待同步'));
  };
  return (
    <form className="stack" onSubmit={(e) => void save(e)}>
      <section className="card">
        <h2>
          {t('记录走访')} · {household.label}
        </h2>
        <label htmlFor="visit-kind">{t('走访类型')}</label>
        <select id="visit-kind" value={kind} onChange={(e) => setKind(e.target.value as VisitKind)}>
          {(Object.keys(visitKinds) as VisitKind[]).map((k) => (
            <option key={k} value={k}>
              {tl(visitKinds[k])}
            </option>
          ))}
        </select>
        <label htmlFor="visit-notes">{t('走访情况')}</label>
        <textarea
          id="visit-notes"
          rows={4}
          maxLength={2000}
          value={notes}
          onChange={(e) => setNotes(e.target.value)}
        />
        <fieldset>
          <legend>{t('发现需求')}</legend>
          <div className="chips">
            {(Object.keys(visitNeeds) as VisitNeed[]).map((k) => (
              <label key={k} className={needs.includes(k) ? 'chip on' : 'chip'}>
                <input
                  type="checkbox"
                  checked={needs.includes(k)}
                  onChange={(e) => setNeeds((n) => (e.target.checked ? [...n, k] : n.filter((x) => x !== k)))}
                />
                {tl(visitNeeds[k])}
              </label>
            ))}
          </div>
        </fieldset>
        <label htmlFor="visit-follow">{t('回访日期')}</label>
        <input
          id="visit-follow"
          type="date"
          min={chinaToday()}
          value={followUpOn}
          onChange={(e) => setFollowUpOn(e.target.value)}
        />
      </section>
      <div className="row gap">
        <button type="button" className="secondary big" onClick={() => onDone('')}>
          {t('取消')}
        </button>
        <button type="submit" className="primary big">
          {t('保存')}
        </button>
      </div>
    </form>
  );
}

function MemberForm({
  household,
  member,
  onDone,
}: {
  household: OfflineHousehold;
  member: OfflineMember;
  onDone: (m: string) => void;
}) {
  const [phone, setPhone] = useState('');
  const [address, setAddress] = useState(member.currentAddress ?? '');
  const [work, setWork] = useState(member.work ?? '');
  const [status, setStatus] = useState<string>(member.status);
  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    const changes: PersonFields = {};
    if (phone.trim()) changes.phone = phone.trim();
    if (address.trim() !== (member.currentAddress ?? '')) changes.currentAddress = address.trim() || null;
    if (work.trim() !== (member.work ?? '')) changes.work = work.trim() || null;
    if (status !== member.status) changes.status = status;
    if (Object.keys(changes).length === 0) return onDone('');
    await outbox.add(
      newItem({
        id: uuid(),
        kind: 'personEdit',
        chain: `person:${member.id}`,
        label: `${t('修改')}：${member.name}（${household.label}）`,
        payload: { personId: member.id, name: member.name, expectedVersion: member.version, changes },
      }),
    );
    void outbox.sync();
    onDone(t('已保存待同步'));
  };
  return (
    <form className="stack" onSubmit={(e) => void save(e)}>
      <section className="card">
        <h2>
          {t('修改')} · {member.name}
        </h2>
        <p className="muted small">
          {member.idNumberMasked} · {member.phoneMasked ?? '—'}
        </p>
        <label htmlFor="m-phone">{t('电话')}</label>
        <input
          id="m-phone"
          type="tel"
          inputMode="tel"
          placeholder={member.phoneMasked ?? ''}
          value={phone}
          onChange={(e) => setPhone(e.target.value)}
        />
        <label htmlFor="m-address">{t('现住址')}</label>
        <input id="m-address" value={address} onChange={(e) => setAddress(e.target.value)} />
        <label htmlFor="m-work">{t('工作单位')}</label>
        <input id="m-work" value={work} onChange={(e) => setWork(e.target.value)} />
        <label htmlFor="m-status">{t('状态')}</label>
        <select id="m-status" value={status} onChange={(e) => setStatus(e.target.value)}>
          {Object.entries(personStatuses).map(([k, v]) => (
            <option key={k} value={k}>
              {tl(v)}
            </option>
          ))}
        </select>
      </section>
      <div className="row gap">
        <button type="button" className="secondary big" onClick={() => onDone('')}>
          {t('取消')}
        </button>
        <button type="submit" className="primary big">
          {t('保存')}
        </button>
      </div>
    </form>
  );
}
