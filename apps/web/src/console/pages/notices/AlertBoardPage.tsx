import {
  ArrowLeftOutlined,
  CheckCircleFilled,
  ClockCircleOutlined,
  EnvironmentOutlined,
  StopOutlined,
} from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { alertOutcomeValues, noticeLimits, type AlertDetail, type Sighting } from '@wangge/contracts';
import {
  Alert,
  App as AntApp,
  Button,
  Card,
  Col,
  Descriptions,
  Empty,
  Form,
  Image,
  Input,
  List,
  Modal,
  Progress,
  Radio,
  Row,
  Space,
  Statistic,
  Table,
  Tag,
  Typography,
} from 'antd';
import { lazy, Suspense, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api, errorMessage } from '../../api.ts';
import { can, useMe } from '../../shared/auth.tsx';
import { Loading, NotFoundResult, QueryState } from '../../shared/states.tsx';
import { Forbidden, PageHeader } from '../admin/common.tsx';
import { fallbackInterval, useNoticeLive } from './live.ts';
import { AlertKindTag, AlertStateTag, formatTime, LiveBadge, RegionName } from './ui.tsx';
import { alertPhotoUrl, sightingPhotoUrl } from './uploads.ts';

const AlertMap = lazy(() => import('./AlertMap.tsx'));

type AlertOutcome = (typeof alertOutcomeValues)[number];

type GridRow = AlertDetail['grids'][number];

/** Not acknowledged first, then by name. */
function ackOrder(a: GridRow, b: GridRow): number {
  if (!a.acknowledgedAt !== !b.acknowledgedAt) return a.acknowledgedAt ? 1 : -1;
  return a.gridName.localeCompare(b.gridName, 'zh-CN') || a.gridCode.localeCompare(b.gridCode);
}

/**
 * 协查看板 (`/alerts/:id`): the alert (photo, description, last seen), its grids' acknowledgements as a table and on
 * the map, its sightings; all live over the stream as workers acknowledge and post. The sender closes it as
 * 已找到 / 已解除 after a confirmation; a closed alert is read-only.
 */
export default function AlertBoardPage() {
  const { t } = useTranslation('notices');
  const me = useMe();
  const id = Number(useParams().id);
  const valid = Number.isInteger(id) && id > 0;
  const live = useNoticeLive();
  const alert = useQuery({
    queryKey: ['alert', id],
    queryFn: () => api.alert({ params: { id } }),
    enabled: valid,
    refetchInterval: fallbackInterval(live),
  });
  if (!can(me, 'notice.read')) return <Forbidden />;
  if (!valid) return <NotFoundResult />;
  return (
    <div data-testid="alert-board">
      <Link to="/alerts">
        <Space size={4}>
          <ArrowLeftOutlined />
          {t('board.back')}
        </Space>
      </Link>
      <QueryState query={alert} rows={10}>
        {(a) => <Board alert={a} live={<LiveBadge state={live} />} />}
      </QueryState>
    </div>
  );
}

function Board({ alert, live }: { alert: AlertDetail; live: ReactNode }) {
  const { t } = useTranslation('notices');
  const me = useMe();
  const [closing, setClosing] = useState(false);
  const open = alert.status === 'open';
  const grids = [...alert.grids].sort(ackOrder);
  const sightings = [...alert.sightings].sort((a, b) => b.seenAt.localeCompare(a.seenAt));
  const lastSeen: [number, number] | null = alert.lastSeen.location
    ? [alert.lastSeen.location.lng, alert.lastSeen.location.lat]
    : null;
  return (
    <>
      <PageHeader
        title={alert.title}
        extra={
          <Space wrap>
            <AlertKindTag kind={alert.kind} />
            <AlertStateTag alert={alert} />
            {live}
            {open && <AcknowledgeButtons alert={alert} />}
            {open && can(me, 'notice.send') && (
              <Button
                danger
                icon={<StopOutlined />}
                onClick={() => setClosing(true)}
                data-testid="alert-close"
              >
                {t('board.close')}
              </Button>
            )}
          </Space>
        }
      />
      {!open && (
        <Alert
          type={alert.outcome === 'found' ? 'success' : 'info'}
          showIcon
          style={{ marginBottom: 16 }}
          data-testid="alert-closed-banner"
          title={t('board.closedBanner', {
            at: formatTime(alert.closedAt),
            outcome: alert.outcome ? t(`alerts.outcome.${alert.outcome}`) : t('alerts.status.closed'),
          })}
        />
      )}
      <Row gutter={16}>
        <Col xs={24} xl={8}>
          <Card size="small" style={{ marginBottom: 16 }}>
            <Space align="start" size={16} style={{ width: '100%' }}>
              {alert.hasPhoto ? (
                <Image
                  width={132}
                  height={164}
                  style={{ objectFit: 'cover', borderRadius: 4 }}
                  src={alertPhotoUrl(alert.id, alert.createdAt)}
                  alt={`${t('board.photo')}：${alert.title}`}
                  data-testid="alert-photo"
                />
              ) : (
                <div
                  style={{
                    width: 132,
                    height: 164,
                    display: 'flex',
                    alignItems: 'center',
                    justifyContent: 'center',
                    background: '#fafafa',
                    border: '1px dashed #d9d9d9',
                    borderRadius: 4,
                  }}
                >
                  <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('board.noPhoto')} />
                </div>
              )}
              <Space orientation="vertical" size={8} style={{ flex: 1 }}>
                <Statistic
                  title={t('board.acknowledged')}
                  value={alert.acknowledgedCount}
                  suffix={`/ ${alert.gridCount}`}
                  data-testid="alert-ack-count"
                />
                <Progress
                  size="small"
                  percent={
                    alert.gridCount ? Math.round((alert.acknowledgedCount / alert.gridCount) * 100) : 0
                  }
                  status={alert.acknowledgedCount === alert.gridCount ? 'success' : 'active'}
                />
                <Statistic
                  title={t('board.sightings')}
                  value={alert.sightingCount}
                  data-testid="alert-sighting-count"
                />
              </Space>
            </Space>
          </Card>
          <Card size="small" style={{ marginBottom: 16 }}>
            <Descriptions
              size="small"
              column={1}
              items={[
                {
                  key: 'description',
                  label: t('board.description'),
                  children: <span style={{ whiteSpace: 'pre-wrap' }}>{alert.description}</span>,
                },
                {
                  key: 'region',
                  label: t('alerts.region'),
                  children: <RegionName code={alert.regionCode} />,
                },
                {
                  key: 'lastSeen',
                  label: t('board.lastSeen'),
                  children: (
                    <span data-testid="alert-last-seen">
                      {[
                        alert.lastSeen.at ? formatTime(alert.lastSeen.at) : null,
                        alert.lastSeen.place,
                        lastSeen ? `${lastSeen[0].toFixed(5)}, ${lastSeen[1].toFixed(5)}` : null,
                      ]
                        .filter(Boolean)
                        .join(' · ') || t('board.unknown')}
                    </span>
                  ),
                },
                { key: 'created', label: t('alerts.createdAt'), children: formatTime(alert.createdAt) },
                ...(alert.closedAt
                  ? [{ key: 'closed', label: t('alerts.closedAt'), children: formatTime(alert.closedAt) }]
                  : []),
              ]}
            />
          </Card>
          <SightingList alertId={alert.id} sightings={sightings} />
        </Col>
        <Col xs={24} xl={16}>
          <Card size="small" title={t('board.map')} style={{ marginBottom: 16 }} data-testid="alert-map">
            <Suspense fallback={<Loading rows={8} />}>
              <AlertMap
                regionCode={alert.regionCode}
                grids={alert.grids.map((g) => ({ gridCode: g.gridCode, acknowledged: !!g.acknowledgedAt }))}
                sightings={alert.sightings}
                lastSeen={lastSeen}
                closed={!open}
              />
            </Suspense>
          </Card>
          <Card
            size="small"
            title={
              <Space orientation="vertical" size={0}>
                <span>{t('board.grids')}</span>
                <Typography.Text type="secondary" style={{ fontSize: 12, fontWeight: 'normal' }}>
                  {t('board.gridsHelp')}
                </Typography.Text>
              </Space>
            }
          >
            <Table<GridRow>
              size="small"
              rowKey="gridCode"
              data-testid="alert-grid-table"
              dataSource={grids}
              pagination={grids.length > 50 ? { pageSize: 50, showSizeChanger: false } : false}
              onRow={(r) =>
                ({ 'data-grid': r.gridCode, 'data-acknowledged': String(!!r.acknowledgedAt) }) as never
              }
              columns={[
                { title: t('board.grid'), dataIndex: 'gridName' },
                { title: t('stats.code'), dataIndex: 'gridCode', width: 150 },
                {
                  title: t('board.ack'),
                  key: 'ack',
                  width: 190,
                  render: (_, r) =>
                    r.acknowledgedAt ? (
                      <Tag color="success" icon={<CheckCircleFilled />} data-testid="grid-acknowledged">
                        {t('board.ackAt', { at: formatTime(r.acknowledgedAt).slice(5) })}
                      </Tag>
                    ) : (
                      <Tag color="error" icon={<ClockCircleOutlined />} data-testid="grid-pending">
                        {t('board.notAck')}
                      </Tag>
                    ),
                },
                {
                  title: t('board.by'),
                  dataIndex: 'acknowledgedBy',
                  width: 120,
                  render: (v: string | null) => v ?? '—',
                },
              ]}
            />
          </Card>
        </Col>
      </Row>
      {closing && <CloseDialog alert={alert} onClose={() => setClosing(false)} />}
    </>
  );
}

/** 确认收到: a grid worker viewing the board acknowledges for each of their grids that has not yet. */
function AcknowledgeButtons({ alert }: { alert: AlertDetail }) {
  const { t } = useTranslation('notices');
  const me = useMe();
  const queryClient = useQueryClient();
  const { message } = AntApp.useApp();
  const ack = useMutation({
    mutationFn: (gridCode: string) => api.acknowledgeAlert({ params: { id: alert.id }, body: { gridCode } }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['alert', alert.id] }),
    onError: (e) => void message.error(errorMessage(e)),
  });
  if (!can(me, 'notice.acknowledge')) return null;
  const mine = alert.grids.filter(
    (g) => !g.acknowledgedAt && me.scope.some((s) => s.regionCode === g.gridCode),
  );
  return (
    <>
      {mine.map((g) => (
        <Button
          key={g.gridCode}
          type="primary"
          icon={<CheckCircleFilled />}
          loading={ack.isPending && ack.variables === g.gridCode}
          onClick={() => ack.mutate(g.gridCode)}
          data-testid="alert-acknowledge"
        >
          {t('board.acknowledge', { grid: g.gridName })}
        </Button>
      ))}
    </>
  );
}

function SightingList({ alertId, sightings }: { alertId: number; sightings: Sighting[] }) {
  const { t } = useTranslation('notices');
  return (
    <Card size="small" title={t('board.sightingList')}>
      <List<Sighting>
        dataSource={sightings}
        data-testid="alert-sightings"
        locale={{
          emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('board.noSightings')} />,
        }}
        renderItem={(s) => (
          <List.Item
            key={s.id}
            data-testid="alert-sighting"
            extra={
              s.hasPhoto ? (
                <Image
                  width={64}
                  height={64}
                  style={{ objectFit: 'cover', borderRadius: 4 }}
                  src={sightingPhotoUrl(alertId, s.id)}
                  alt={`${t('board.sightingPhoto')} ${formatTime(s.seenAt)}`}
                />
              ) : undefined
            }
          >
            <List.Item.Meta
              avatar={<EnvironmentOutlined style={{ color: '#1d5fd1', fontSize: 18, marginTop: 4 }} />}
              title={
                <Space size={8} wrap>
                  <span>{formatTime(s.seenAt)}</span>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {s.reportedBy}
                    {s.gridCode ? ' · ' : ''}
                    {s.gridCode && <RegionName code={s.gridCode} />}
                  </Typography.Text>
                </Space>
              }
              description={
                <span style={{ color: 'rgba(0,0,0,0.85)', whiteSpace: 'pre-wrap' }}>{s.note}</span>
              }
            />
          </List.Item>
        )}
      />
    </Card>
  );
}

/** 结束协查: the outcome (已找到 / 已解除) and a note, confirmed in a dialog. */
function CloseDialog({ alert, onClose }: { alert: AlertDetail; onClose: () => void }) {
  const { t } = useTranslation('notices');
  const queryClient = useQueryClient();
  const { message } = AntApp.useApp();
  const [form] = Form.useForm<{ outcome: AlertOutcome; note?: string }>();
  const close = useMutation({
    mutationFn: (values: { outcome: AlertOutcome; note?: string }) =>
      api.closeAlert({
        params: { id: alert.id },
        body: { outcome: values.outcome, ...(values.note?.trim() ? { note: values.note.trim() } : {}) },
      }),
    onSuccess: () => {
      void message.success(t('board.closed'));
      void queryClient.invalidateQueries({ queryKey: ['alert', alert.id] });
      void queryClient.invalidateQueries({ queryKey: ['alerts'] });
      onClose();
    },
  });
  return (
    <Modal
      open
      title={t('board.closeTitle')}
      onCancel={onClose}
      okText={t('board.confirmClose')}
      cancelText={t('board.cancel')}
      okButtonProps={{ danger: true, loading: close.isPending, 'data-testid': 'alert-close-confirm' }}
      onOk={() => void form.validateFields().then((v) => close.mutate(v))}
      destroyOnHidden
    >
      <Typography.Paragraph type="secondary">{t('board.closeIntro')}</Typography.Paragraph>
      <Form form={form} layout="vertical" initialValues={{ outcome: 'found' }}>
        <Form.Item name="outcome" label={t('board.outcome')} required>
          <Radio.Group
            options={alertOutcomeValues.map((o) => ({
              value: o,
              label: t(`alerts.outcome.${o}`),
            }))}
          />
        </Form.Item>
        <Form.Item name="note" label={t('board.closeNote')}>
          <Input.TextArea maxLength={noticeLimits.noteMax} autoSize={{ minRows: 2, maxRows: 5 }} />
        </Form.Item>
      </Form>
      {close.isError && <Alert type="error" showIcon title={errorMessage(close.error)} role="alert" />}
    </Modal>
  );
}
