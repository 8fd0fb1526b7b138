import { InfoCircleOutlined } from '@ant-design/icons';
import type { KpiCounts, KpiRates, KpiReport } from '@wangge/contracts';
import { Card, Col, Descriptions, Row, Statistic, Tooltip, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { percent } from './panels.tsx';

const mainCounts = ['accepted', 'filed', 'closed', 'closedOnTime', 'open', 'overdueNow'] as const;
const otherCounts = [
  'notFiled',
  'duplicates',
  'resolved',
  'dueToClose',
  'responded',
  'reworked',
  'rated',
  'satisfied',
  'basicallySatisfied',
  'dissatisfied',
] as const satisfies readonly (keyof KpiCounts)[];
const rateKeys = [
  'filingRate',
  'resolutionRate',
  'closureRate',
  'onTimeClosureRate',
  'reworkRate',
  'satisfactionRate',
] as const satisfies readonly (keyof KpiRates)[];

/**
 * The headline figures. Each card is `data-testid="kpi-<key>"` (the key of KpiCounts or KpiRates) and shows the
 * plain number (no thousands separator), so a test can compare it with `/api/kpis`.
 */
export function KpiCards({ report }: { report: KpiReport }) {
  const { t } = useTranslation('cockpit');
  return (
    <>
      <Row gutter={[12, 12]}>
        {mainCounts.map((key) => (
          <Col key={key} span={4}>
            <Card size="small" data-testid={`kpi-${key}`} data-value={report.counts[key]}>
              <Statistic
                title={
                  <Tooltip title={t(`countHints.${key}`)}>
                    <span>
                      {t(`counts.${key}`)} <InfoCircleOutlined style={{ fontSize: 12, color: '#8c8c8c' }} />
                    </span>
                  </Tooltip>
                }
                value={report.counts[key]}
                groupSeparator=""
                styles={{
                  content: key === 'overdueNow' && report.counts[key] > 0 ? { color: '#cf1322' } : undefined,
                }}
              />
            </Card>
          </Col>
        ))}
      </Row>
      <Row gutter={[12, 12]} style={{ marginTop: 12 }}>
        {rateKeys.map((key) => {
          const rate = report.rates[key];
          const formula =
            rate.denominator === 0
              ? t('noDenominator')
              : t(`rateFormula.${key}`, { numerator: rate.numerator, denominator: rate.denominator });
          return (
            <Col key={key} span={4}>
              <Tooltip title={formula}>
                <Card
                  size="small"
                  data-testid={`kpi-${key}`}
                  data-value={rate.value ?? ''}
                  data-numerator={rate.numerator}
                  data-denominator={rate.denominator}
                  tabIndex={0}
                  aria-label={`${t(`rates.${key}`)} ${percent(rate)}（${formula}）`}
                >
                  <Statistic title={t(`rates.${key}`)} value={percent(rate)} />
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {rate.numerator} / {rate.denominator}
                  </Typography.Text>
                </Card>
              </Tooltip>
            </Col>
          );
        })}
      </Row>
      <Card size="small" style={{ marginTop: 12 }}>
        <Descriptions
          size="small"
          column={5}
          title={<Typography.Text type="secondary">{t('moreFigures')}</Typography.Text>}
          items={otherCounts.map((key) => ({
            key,
            label: t(`counts.${key}`),
            children: <span data-testid={`kpi-${key}`}>{report.counts[key]}</span>,
          }))}
        />
      </Card>
    </>
  );
}
