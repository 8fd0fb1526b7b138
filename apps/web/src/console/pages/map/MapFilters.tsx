import { useQuery } from '@tanstack/react-query';
import { caseChannelValues, caseStateFilterValues } from '@wangge/contracts';
import { Button, DatePicker, Select, TreeSelect } from 'antd';
import dayjs from 'dayjs';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api.ts';

export type CaseState = (typeof caseStateFilterValues)[number];
export type CaseChannel = (typeof caseChannelValues)[number];

export interface MapFilterValues {
  state: CaseState;
  categoryCode?: string;
  channel?: CaseChannel;
  /** first and last China date of the period, inclusive */
  period?: [string, string];
}

export const defaultFilters: MapFilterValues = { state: 'open' };

/** The filters above the map: they drive the case points (and the count beside them). */
export function MapFilters({
  value,
  onChange,
  summary,
}: {
  value: MapFilterValues;
  onChange: (next: MapFilterValues) => void;
  summary: ReactNode;
}) {
  const { t, i18n } = useTranslation('map');
  const en = i18n.language === 'en';
  const taxonomy = useQuery({
    queryKey: ['map', 'taxonomy'],
    queryFn: () => api.taxonomy({}),
    staleTime: 600_000,
  });
  const treeData = (taxonomy.data?.categories ?? [])
    .filter((c) => c.active)
    .map((c) => ({
      value: c.code,
      title: en ? c.nameEn : c.nameZh,
      children: c.items
        .filter((i) => i.active)
        .map((i) => ({ value: i.code, title: en ? i.nameEn : i.nameZh })),
    }));
  const changed =
    value.state !== defaultFilters.state || !!value.categoryCode || !!value.channel || !!value.period;

  return (
    <div className="map-filters" role="search" aria-label={t('filters.label')}>
      <div className="map-filter">
        <label htmlFor="map-filter-category">{t('filters.category')}</label>
        <TreeSelect
          id="map-filter-category"
          style={{ width: 200 }}
          value={value.categoryCode}
          placeholder={t('filters.categoryAll')}
          allowClear
          showSearch={{ treeNodeFilterProp: 'title' }}
          treeData={treeData}
          loading={taxonomy.isPending}
          status={taxonomy.isError ? 'error' : undefined}
          onChange={(v: string | undefined) => onChange({ ...value, categoryCode: v || undefined })}
          popupMatchSelectWidth={false}
        />
      </div>
      <div className="map-filter">
        <label htmlFor="map-filter-state">{t('filters.state')}</label>
        <Select<CaseState>
          id="map-filter-state"
          style={{ width: 132 }}
          value={value.state}
          options={caseStateFilterValues.map((s) => ({ value: s, label: t(`state.${s}`) }))}
          onChange={(s) => onChange({ ...value, state: s })}
        />
      </div>
      <div className="map-filter">
        <label htmlFor="map-filter-channel">{t('filters.channel')}</label>
        <Select<CaseChannel>
          id="map-filter-channel"
          style={{ width: 132 }}
          value={value.channel}
          placeholder={t('filters.channelAll')}
          allowClear
          options={caseChannelValues.map((c) => ({ value: c, label: t(`common:channel.${c}`) }))}
          onChange={(c) => onChange({ ...value, channel: c ?? undefined })}
        />
      </div>
      <div className="map-filter">
        <label htmlFor="map-filter-period">{t('filters.period')}</label>
        <DatePicker.RangePicker
          id={{ start: 'map-filter-period' }}
          style={{ width: 236 }}
          value={value.period ? [dayjs(value.period[0]), dayjs(value.period[1])] : null}
          disabledDate={(d) => d.isAfter(dayjs(), 'day')}
          onChange={(range) =>
            onChange({
              ...value,
              period:
                range && range[0] && range[1]
                  ? [range[0].format('YYYY-MM-DD'), range[1].format('YYYY-MM-DD')]
                  : undefined,
            })
          }
        />
      </div>
      {changed && (
        <Button onClick={() => onChange(defaultFilters)} style={{ alignSelf: 'flex-end' }}>
          {t('filters.reset')}
        </Button>
      )}
      <div className="map-filters-summary">{summary}</div>
    </div>
  );
}
