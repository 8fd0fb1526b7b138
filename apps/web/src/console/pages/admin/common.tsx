import { Result, Typography } from 'antd';
import type { FormInstance } from 'antd';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { errorMessage, fieldErrors } from '../../api.ts';

/** Shown by an admin page opened without the permission it needs (the menu hides it, a typed URL does not). */
export function Forbidden() {
  const { t } = useTranslation('admin');
  return <Result status="403" title="403" subTitle={t('forbidden')} />;
}

export function PageHeader({ title, intro, extra }: { title: string; intro?: string; extra?: ReactNode }) {
  return (
    <div
      style={{
        display: 'flex',
        justifyContent: 'space-between',
        alignItems: 'flex-start',
        gap: 16,
        marginBottom: 12,
      }}
    >
      <div>
        <Typography.Title level={3} className="page-title" style={{ marginBottom: 4 }}>
          {title}
        </Typography.Title>
        {intro && <Typography.Text type="secondary">{intro}</Typography.Text>}
      </div>
      {extra}
    </div>
  );
}

/**
 * Puts the server's per-field messages of a 400 on the form's fields (`body.grants.0.regionCode` →
 * `['grants', 0, 'regionCode']`). Returns the message to show above the form when some error has no field there.
 */
export function showServerErrors<T>(
  form: FormInstance<T>,
  error: unknown,
  fieldNames: readonly string[],
): string | null {
  const fields = fieldErrors(error)
    .map((f) => ({ ...f, name: f.name[0] === 'body' ? f.name.slice(1) : f.name }))
    .filter((f) => f.name.length > 0);
  const placed = fields.filter((f) => fieldNames.includes(String(f.name[0])));
  if (placed.length) form.setFields(placed as never);
  return placed.length && placed.length === fields.length ? null : errorMessage(error);
}
