import { useQuery } from '@tanstack/react-query';
import { FileTextOutlined } from '@ant-design/icons';
import type { AlertSummary, Notice, NoticeTarget } from '@wangge/contracts';
import { Badge, Tag, Tooltip } from 'antd';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { api } from '../../api.ts';
import type { LiveState } from './live.ts';
import { formatBytes, noticeImageUrl } from './uploads.ts';

export { formatTime } from '../workbench/caseUi.tsx';

/** A region's name by its code (cached with the region picker's queries); the code while it loads. */
export function useRegionName(code: string | null | undefined): string {
  const region = useQuery({
    queryKey: ['region', code],
    queryFn: () => api.region({ params: { code: code! } }),
    enabled: !!code,
    staleTime: 5 * 60_000,
    retry: false,
  });
  return region.data?.name ?? code ?? '';
}

export function RegionName({ code }: { code: string }) {
  return <>{useRegionName(code)}</>;
}

/** Who a notice goes to, in words. */
export function TargetText({ target }: { target: NoticeTarget }) {
  const { t } = useTranslation('notices');
  const region = useRegionName('regionCode' in target ? target.regionCode : null);
  return <>{targetText(target, region, t)}</>;
}

export function targetText(target: NoticeTarget, region: string, t: TFunction): string {
  switch (target.kind) {
    case 'region':
      return t('targetText.region', { region });
    case 'grids':
      return t('targetText.grids', { count: target.gridCodes.length });
    case 'roles':
      return t('targetText.roles', {
        region,
        roles: target.roles.map((r) => t(`common:roles.${r}`)).join('、'),
      });
    case 'residents':
      return t('targetText.residents', { region });
  }
}

/** Whether the page is receiving live updates (and that it polls when it is not). */
export function LiveBadge({ state }: { state: LiveState }) {
  const { t } = useTranslation('notices');
  return (
    <Tooltip title={t(`live.${state}`)}>
      <Tag data-testid="live-state" data-state={state} style={{ marginInlineEnd: 0 }}>
        <Badge
          status={state === 'open' ? 'success' : state === 'connecting' ? 'processing' : 'warning'}
          text={t(`live.${state}`)}
        />
      </Tag>
    </Tooltip>
  );
}

export function AlertStateTag({ alert }: { alert: Pick<AlertSummary, 'status' | 'outcome'> }) {
  const { t } = useTranslation('notices');
  if (alert.status === 'open')
    return (
      <Tag color="red" data-testid="alert-state">
        {t('alerts.status.open')}
      </Tag>
    );
  return (
    <Tag color={alert.outcome === 'found' ? 'green' : 'default'} data-testid="alert-state">
      {alert.outcome ? t(`alerts.outcome.${alert.outcome}`) : t('alerts.status.closed')}
    </Tag>
  );
}

export function AlertKindTag({ kind }: { kind: AlertSummary['kind'] }) {
  const { t } = useTranslation('notices');
  return <Tag color={kind === 'missing_person' ? 'volcano' : 'gold'}>{t(`alerts.kind.${kind}`)}</Tag>;
}

/** A notice's documents as download links with their name and size (images are shown as thumbnails elsewhere). */
export function NoticeDocumentLinks({ notice }: { notice: Pick<Notice, 'id' | 'attachments'> }) {
  const { t } = useTranslation('notices');
  const documents = notice.attachments.filter((a) => a.kind === 'document');
  if (!documents.length) return null;
  return (
    <ul style={{ listStyle: 'none', margin: 0, padding: 0 }} aria-label={t('list.documents')}>
      {documents.map((a) => (
        <li key={a.id} style={{ padding: '2px 0' }}>
          <a
            href={noticeImageUrl(notice.id, a.id)}
            download={a.fileName ?? true}
            data-testid="notice-document"
          >
            <FileTextOutlined /> {a.fileName}
          </a>{' '}
          <span style={{ color: 'rgba(0,0,0,0.45)' }}>{formatBytes(a.bytes)}</span>
        </li>
      ))}
    </ul>
  );
}
