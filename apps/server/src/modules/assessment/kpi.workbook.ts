import type { KpiCounts, KpiDimension, KpiRates, KpiReport } from '@wangge/contracts';
import ExcelJS from 'exceljs';

/**
 * The KPI report as an Excel workbook (考核报表导出): a sheet of the totals and, with a breakdown, a sheet of the
 * groups. Built from the very report `GET /api/kpis` answers, so the two cannot disagree. Headers are Chinese
 * with the English beneath; rates are numbers formatted as percentages; every text cell is defused against
 * formula injection.
 */

export const xlsxContentType = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

type CountKey = keyof KpiCounts;
type RateKey = keyof KpiRates;

/** Every count of the report, in the order of docs/domain/kpis.md, with its Chinese and English names. */
export const countColumns: readonly { key: CountKey; zh: string; en: string }[] = [
  { key: 'accepted', zh: '受理数', en: 'Accepted' },
  { key: 'filed', zh: '立案数', en: 'Filed' },
  { key: 'notFiled', zh: '不予立案数', en: 'Not filed' },
  { key: 'duplicates', zh: '重复件数', en: 'Duplicates' },
  { key: 'resolved', zh: '办结数', en: 'Resolved' },
  { key: 'dueToClose', zh: '应结案数', en: 'Due to close' },
  { key: 'closed', zh: '结案数', en: 'Closed' },
  { key: 'closedOnTime', zh: '按期结案数', en: 'Closed on time' },
  { key: 'responded', zh: '处置反馈数', en: 'Responded' },
  { key: 'reworked', zh: '返工数', en: 'Reworked' },
  { key: 'rated', zh: '评价数', en: 'Rated' },
  { key: 'satisfied', zh: '满意数', en: 'Satisfied' },
  { key: 'basicallySatisfied', zh: '基本满意数', en: 'Basically satisfied' },
  { key: 'dissatisfied', zh: '不满意数', en: 'Dissatisfied' },
  { key: 'open', zh: '在办数', en: 'Open' },
  { key: 'overdueNow', zh: '当前超期数', en: 'Overdue now' },
];

export const rateColumns: readonly { key: RateKey; zh: string; en: string }[] = [
  { key: 'filingRate', zh: '立案率', en: 'Filing rate' },
  { key: 'resolutionRate', zh: '办结率', en: 'Resolution rate' },
  { key: 'closureRate', zh: '结案率', en: 'Closure rate' },
  { key: 'onTimeClosureRate', zh: '按期结案率', en: 'On-time closure rate' },
  { key: 'reworkRate', zh: '返工率', en: 'Rework rate' },
  { key: 'satisfactionRate', zh: '满意率', en: 'Satisfaction rate' },
];

const dimensionNames: Record<KpiDimension, { zh: string; en: string }> = {
  category: { zh: '事项分类', en: 'Category' },
  department: { zh: '承办部门', en: 'Department' },
  grid: { zh: '网格', en: 'Grid' },
  channel: { zh: '来源渠道', en: 'Channel' },
};

/** Sheet names: also the names a test or a user looks the sheets up by. */
export const sheetNames = { totals: '汇总 Totals', groups: '分组 Groups' } as const;

const percent = '0.00%';

/**
 * A text cell a spreadsheet will never run as a formula: text starting with = + - @ (or a tab or carriage
 * return, which some programs skip before looking) gets a leading apostrophe. Exported for the tests.
 */
export function defused(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

function headerRows(sheet: ExcelJS.Worksheet, zh: string[], en: string[]): void {
  const top = sheet.addRow(zh.map(defused));
  const bottom = sheet.addRow(en.map(defused));
  top.font = { bold: true };
  bottom.font = { italic: true, color: { argb: 'FF666666' } };
}

/** Builds the workbook of a KPI report (with groups when the report has a breakdown). */
export async function kpiWorkbook(report: KpiReport): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'Wangge 网格';
  workbook.created = new Date(report.asOf);

  const totals = workbook.addWorksheet(sheetNames.totals);
  totals.columns = [{ width: 16 }, { width: 24 }, { width: 14 }, { width: 12 }, { width: 12 }];
  const meta: [string, string][] = [
    ['区域 Region', `${report.region.name} (${report.region.code})`],
    ['开始日期 From', report.from],
    ['截止日期(不含) To (exclusive)', report.to],
    ['统计时间 As of', report.asOf],
    ['分组 Breakdown', report.by ? `${dimensionNames[report.by].zh} ${dimensionNames[report.by].en}` : '—'],
  ];
  const title = totals.addRow([defused('考核指标 KPI report')]);
  title.font = { bold: true, size: 14 };
  for (const [label, value] of meta) totals.addRow([defused(label), defused(value)]);
  totals.addRow([]);
  headerRows(
    totals,
    ['指标', '指标(英文)', '数值', '分子', '分母'],
    ['Metric', 'Metric (English)', 'Value', 'Numerator', 'Denominator'],
  );
  for (const column of countColumns)
    totals.addRow([defused(column.zh), defused(column.en), report.counts[column.key]]);
  for (const column of rateColumns) {
    const rate = report.rates[column.key];
    const row = totals.addRow([
      defused(column.zh),
      defused(column.en),
      rate.value,
      rate.numerator,
      rate.denominator,
    ]);
    row.getCell(3).numFmt = percent;
  }

  if (report.by) {
    const scored = report.by === 'department';
    const groups = workbook.addWorksheet(sheetNames.groups, { views: [{ state: 'frozen', ySplit: 2 }] });
    const dimension = dimensionNames[report.by];
    headerRows(
      groups,
      [
        `${dimension.zh}代码`,
        `${dimension.zh}名称`,
        ...countColumns.map((c) => c.zh),
        ...rateColumns.map((c) => c.zh),
        ...(scored ? ['综合评分'] : []),
      ],
      [
        `${dimension.en} key`,
        `${dimension.en} name`,
        ...countColumns.map((c) => c.en),
        ...rateColumns.map((c) => c.en),
        ...(scored ? ['Score'] : []),
      ],
    );
    groups.getColumn(1).width = 18;
    groups.getColumn(2).width = 28;
    for (const group of report.groups) {
      const row = groups.addRow([
        group.key === null ? null : defused(group.key),
        group.name === null ? null : defused(group.name),
        ...countColumns.map((c) => group.counts[c.key]),
        ...rateColumns.map((c) => group.rates[c.key].value),
        ...(scored ? [group.score ?? null] : []),
      ]);
      rateColumns.forEach((_, i) => (row.getCell(3 + countColumns.length + i).numFmt = percent));
    }
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** RFC 5987 `ext-value` encoding: percent-encode everything outside attr-char. */
function rfc5987(value: string): string {
  return encodeURIComponent(value).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * `attachment` with an ASCII file name (`kpi-<region code>-<from>-<to>.xlsx`) for old clients and the Chinese one
 * (`考核指标-<region name>-<from>-<to>.xlsx`) as RFC 5987 `filename*` for the rest.
 */
export function kpiWorkbookDisposition(report: KpiReport): string {
  const ascii = `kpi-${report.region.code}-${report.from}-${report.to}.xlsx`;
  const name = [...report.region.name]
    .map((c) => (c.charCodeAt(0) < 0x20 || c === '\u007f' || '\\/:*?"<>|'.includes(c) ? '_' : c))
    .join('');
  const unicode = `考核指标-${name}-${report.from}-${report.to}.xlsx`;
  return `attachment; filename="${ascii}"; filename*=UTF-8''${rfc5987(unicode)}`;
}
