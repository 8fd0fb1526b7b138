import type { PersonSummary, PersonTag } from '@wangge/contracts';
import { Space, Tag, Tooltip } from 'antd';
import { useTranslation } from 'react-i18next';

/** One colour per specialty (条线), so a grid worker tells civil-affairs care from security at a glance. */
export const specialtyColor: Record<PersonTag['specialty'], string> = {
  civil_affairs: 'blue',
  public_security: 'red',
  judicial: 'purple',
  health: 'green',
};

/** Age in whole years on today's date (China time is close enough for a birthday). */
export function ageOf(birthDate: string | null | undefined, today = new Date()): number | null {
  if (!birthDate) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(birthDate);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  let age = today.getFullYear() - y;
  if (today.getMonth() + 1 < mo || (today.getMonth() + 1 === mo && today.getDate() < d)) age -= 1;
  return age >= 0 ? age : null;
}

/** A value of a tag's own fields as text (booleans as 是/否). */
export function fieldValue(value: unknown, yes: string, no: string): string {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'boolean') return value ? yes : no;
  if (typeof value === 'number') return value.toString();
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Key-population tags as coloured chips; the tag's own fields in the tooltip. */
export function TagChips({ tags }: { tags: PersonTag[] | undefined }) {
  const { t } = useTranslation('registry');
  if (!tags?.length) return null;
  return (
    <Space size={[2, 2]} wrap>
      {tags.map((tag) => {
        const fields = Object.entries(tag.fields);
        const chip = (
          <Tag key={tag.kind} color={specialtyColor[tag.specialty]} style={{ marginInlineEnd: 0 }}>
            {t(`tag.${tag.kind}`)}
          </Tag>
        );
        return fields.length ? (
          <Tooltip
            key={tag.kind}
            title={fields
              .map(
                ([k, v]) => `${t(`tagField.${k}`, { defaultValue: k })}：${fieldValue(v, t('yes'), t('no'))}`,
              )
              .join('；')}
          >
            {chip}
          </Tooltip>
        ) : (
          chip
        );
      })}
    </Space>
  );
}

/** A person in one line: name, gender, age, masked ID and tags. */
export function PersonLine({ person }: { person: PersonSummary }) {
  const { t } = useTranslation('registry');
  const age = ageOf(person.birthDate);
  return (
    <span style={{ display: 'inline-flex', gap: 8, alignItems: 'center', flexWrap: 'wrap' }}>
      <strong>{person.name}</strong>
      <span>{t(`gender.${person.gender}`)}</span>
      {age !== null && <span>{t('years', { count: age })}</span>}
      {person.relationToHead && (
        <span style={{ color: '#8c8c8c' }}>{t(`relation.${person.relationToHead}`)}</span>
      )}
      <span style={{ fontFamily: 'monospace', color: '#595959' }}>{person.idNumberMasked}</span>
      {person.status !== 'active' && <Tag>{t(`status.${person.status}`)}</Tag>}
      <TagChips tags={person.tags} />
    </span>
  );
}
