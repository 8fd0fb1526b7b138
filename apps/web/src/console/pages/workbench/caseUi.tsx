import { useQuery } from '@tanstack/react-query';
import type { CaseStatus, TaxonomyTree } from '@wangge/contracts';
import { Tag, Tooltip } from 'antd';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { api } from '../../api.ts';

/** Small pieces the workbench, the case page and the new-case form share. */

const chinaTime = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** `YYYY-MM-DD HH:mm` in China time (deadlines are China working days, whatever the browser's zone). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '—';
  const p = Object.fromEntries(chinaTime.formatToParts(date).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/** "2 天 3 小时" between now and a deadline; `over` when it has passed. */
export function remaining(
  dueAt: string | null,
  t: TFunction,
  now = Date.now(),
): { text: string; over: boolean; soon: boolean } | null {
  if (!dueAt) return null;
  const ms = new Date(dueAt).getTime() - now;
  const abs = Math.abs(ms);
  const days = Math.floor(abs / 86_400_000);
  const hours = Math.floor((abs % 86_400_000) / 3_600_000);
  const minutes = Math.max(1, Math.floor((abs % 3_600_000) / 60_000));
  const parts: string[] = [];
  if (days > 0) parts.push(t('workbench:time.days', { count: days }));
  if (hours > 0 || days > 0) parts.push(t('workbench:time.hours', { count: hours }));
  if (days === 0 && hours === 0) parts.push(t('workbench:time.minutes', { count: minutes }));
  const text = parts.join(' ');
  return ms < 0
    ? { text: t('workbench:time.over', { text }), over: true, soon: false }
    : { text: t('workbench:time.left', { text }), over: false, soon: ms < 86_400_000 };
}

const statusColor: Record<CaseStatus, string> = {
  reported: 'blue',
  verifying: 'blue',
  filed: 'cyan',
  not_filed: 'default',
  duplicate: 'default',
  dispatched: 'geekblue',
  in_progress: 'processing',
  suspended: 'warning',
  responded: 'purple',
  inspecting: 'purple',
  closed: 'success',
  evaluated: 'success',
};

export function StatusTag({ status }: { status: CaseStatus }) {
  const { t } = useTranslation();
  return (
    <Tag color={statusColor[status]} data-testid="case-status">
      {t(`common:status.${status}`)}
    </Tag>
  );
}

/** 督办 / 黄牌 / 红牌: the card colours are the point, so they are drawn as cards, not plain tags. */
export function SupervisionTag({ level }: { level: 'none' | 'normal' | 'yellow' | 'red' }) {
  const { t } = useTranslation('workbench');
  if (level === 'none') return null;
  const style =
    level === 'yellow'
      ? { background: '#fadb14', borderColor: '#d4b106', color: '#262626', fontWeight: 600 }
      : level === 'red'
        ? { background: '#cf1322', borderColor: '#a8071a', color: '#fff', fontWeight: 600 }
        : undefined;
  return (
    <Tooltip title={t(`level.${level}`)}>
      <Tag
        color={level === 'normal' ? 'orange' : undefined}
        style={style}
        data-testid={`supervision-${level}`}
      >
        {t(`tag.${level}`)}
      </Tag>
    </Tooltip>
  );
}

export function UrgentTag() {
  const { t } = useTranslation('workbench');
  return (
    <Tag color="volcano" data-testid="urgent">
      {t('tag.urgent')}
    </Tag>
  );
}

export function OverdueTag() {
  const { t } = useTranslation('workbench');
  return (
    <Tag color="red" data-testid="overdue">
      {t('tag.overdue')}
    </Tag>
  );
}

/** The due date with the time left (or 超期 in red). */
export function DueCell({ dueAt, overdue }: { dueAt: string | null; overdue: boolean }) {
  const { t } = useTranslation('workbench');
  const left = remaining(dueAt, t);
  if (!dueAt || !left) return <span style={{ color: '#999' }}>{t('time.none')}</span>;
  const late = overdue || left.over;
  return (
    <div style={{ lineHeight: 1.4 }}>
      <div>{formatTime(dueAt)}</div>
      {late ? (
        <Tag color="red" style={{ marginTop: 2 }}>
          {left.over ? left.text : t('tag.overdue')}
        </Tag>
      ) : (
        <span style={{ fontSize: 12, color: left.soon ? '#d46b08' : '#8c8c8c' }}>{left.text}</span>
      )}
    </div>
  );
}

/** The taxonomy (active categories and items), cached for the session. */
export function useTaxonomy() {
  return useQuery({ queryKey: ['taxonomy'], queryFn: () => api.taxonomy({}), staleTime: 10 * 60_000 });
}

export type TaxonomyNames = Map<string, { zh: string; en: string }>;

export function taxonomyNames(tree: TaxonomyTree | undefined): TaxonomyNames {
  const names: TaxonomyNames = new Map();
  for (const c of tree?.categories ?? []) {
    names.set(c.code, { zh: c.nameZh, en: c.nameEn });
    for (const i of c.items) names.set(i.code, { zh: i.nameZh, en: i.nameEn });
  }
  return names;
}

export function nameOf(names: TaxonomyNames, code: string, language: string): string {
  const n = names.get(code);
  if (!n) return code;
  return language === 'en' ? n.en : n.zh;
}

export interface CategoryNode {
  title: string;
  value: string;
  key: string;
  selectable?: boolean;
  searchText: string;
  children?: CategoryNode[];
}

/** TreeSelect data: 2-digit categories (not selectable) over 4-digit items; searchable by name or code. */
export function categoryTree(
  tree: TaxonomyTree | undefined,
  language: string,
  options: { categoriesSelectable?: boolean } = {},
): CategoryNode[] {
  const en = language === 'en';
  return (tree?.categories ?? [])
    .filter((c) => c.active)
    .map((c) => ({
      title: `${c.code} ${en ? c.nameEn : c.nameZh}`,
      value: c.code,
      key: c.code,
      selectable: options.categoriesSelectable ?? false,
      searchText: `${c.code} ${c.nameZh} ${c.nameEn}`.toLowerCase(),
      children: c.items
        .filter((i) => i.active)
        .map((i) => ({
          title: `${i.code} ${en ? i.nameEn : i.nameZh}`,
          value: i.code,
          key: i.code,
          searchText: `${i.code} ${i.nameZh} ${i.nameEn} ${c.nameZh}`.toLowerCase(),
        })),
    }));
}

/** Case-insensitive match of a TreeSelect node on code and both names. */
export function filterCategoryNode(input: string, node: unknown): boolean {
  const text = (node as { searchText?: string }).searchText ?? '';
  return text.includes(input.trim().toLowerCase());
}

/** Removes the leading `body.` of server field paths so they match the form's field names. */
export function formFields(errors: { name: (string | number)[]; errors: string[] }[]) {
  return errors.map((e) => ({ ...e, name: e.name[0] === 'body' ? e.name.slice(1) : e.name }));
}
