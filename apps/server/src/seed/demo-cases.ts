import { rows, sql, type Database, type Executor } from '../platform/db.ts';
import { ensureDefaultTaxonomy } from '../modules/taxonomy/index.ts';
import { ensureDefaultHotlineClassifications } from '../modules/interop/index.ts';
import { ensureDefaultCalendar, getWorkCalendar, type WorkCalendar } from '../modules/calendar/index.ts';
import { createRandom, roundCoordinate, signedArea, type Point } from './geometry.ts';
import type { TerritoryRegion } from './territory.ts';

/**
 * Demo cases (事件) for the demo city: about 90 days ending at the seed's `now`, deterministic (seeded PRNG, no
 * clock reads), every state and channel. Each case is simulated through the workflow's transitions (the
 * timeline rows replay to its status); a step whose moment lies after `now` is not taken, so old cases are
 * closed or rated and recent ones still open. More cases in the small (dense, central) grids; seasonal
 * categories (heating and snow in late autumn); some overdue, reworked, unhappy, urgent or supervised.
 */

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;
/** Days of history. */
export const demoCaseDays = 90;

export interface CategoryItem {
  code: string;
  departmentKey: string | null;
  fixOnSpot: boolean;
  acceptHours: number;
  handleWorkingDays: number;
  inspectWorkingDays: number;
}

export interface TimelineSeed {
  at: string;
  /** user name of the actor (joined to app_user), or null */
  actor: string | null;
  role: string;
  action: string;
  from: string | null;
  to: string | null;
  comment: string | null;
  data: Record<string, unknown>;
}

export interface DemoCase {
  clientId: string;
  serial: string;
  title: string;
  description: string;
  categoryCode: string;
  channel: string;
  urgent: boolean;
  status: string;
  lng: number;
  lat: number;
  address: string;
  gridCode: string;
  regionPath: string;
  ownerRegionCode: string;
  ownerLevel: string;
  leadDepartment: string | null;
  coDepartments: string[];
  ccDepartments: string[];
  reporter: string | null;
  reporterName: string | null;
  reporterContactMasked: string | null;
  hotline: Record<string, string> | null;
  peopleInvolved: number | null;
  supervision: 'none' | 'normal' | 'yellow' | 'red';
  instructed: boolean;
  extensionRequested: boolean;
  parentClientId: string | null;
  reworkCount: number;
  evaluation: string | null;
  acceptDueAt: string | null;
  handleDueAt: string | null;
  inspectDueAt: string | null;
  dueAt: string | null;
  overdue: boolean;
  overdueSince: string | null;
  reportedAt: string;
  filedAt: string | null;
  dispatchedAt: string | null;
  acceptedAt: string | null;
  respondedAt: string | null;
  closedAt: string | null;
  evaluatedAt: string | null;
  timeline: TimelineSeed[];
}

/** China local date / month of an instant. */
const chinaDate = (ms: number) => new Date(ms + 8 * hourMs).toISOString().slice(0, 10);
const chinaMonth = (ms: number) => Number(chinaDate(ms).slice(5, 7));

/** Relative weight of each item, with a season factor by China month. */
function itemWeight(code: string, month: number, day: number): number {
  const winter = month >= 11 || month <= 3;
  const heating = month >= 11 || month <= 3 || (month === 10 && day >= 15);
  const summer = month >= 6 && month <= 9;
  const base: Record<string, number> = {
    '0101': 5,
    '0102': 1.5,
    '0103': 1.5,
    '0104': 4,
    '0201': 1,
    '0202': 0.6,
    '0203': 2,
    '0301': 3,
    '0302': 2,
    '0303': 0.6,
    '0304': 1.5,
    '0401': 14,
    '0402': 8,
    '0403': 12,
    '0404': 3,
    '0501': 6,
    '0502': 4,
    '0503': 4,
    '0504': 4,
    '0601': 1.5,
    '0602': 1,
    '0603': 1,
    '0701': 3,
    '0702': 1.5,
    '0703': 1,
    '0801': 3,
    '0802': 2,
    '0901': 0.6,
    '0902': 0.8,
    '1001': 5,
    '1002': 3,
  };
  let w = base[code] ?? 1;
  if (code === '0503' && heating) w *= 5; // 供暖: heating season from mid-October in Jiamusi
  if (code === '0501' && winter) w *= 2.2; // 积雪结冰 on roads and pavements
  if (code === '0302' && heating) w *= 2; // gas and electric heaters
  if (code === '0701' && winter) w *= 1.5;
  if ((code === '0402' || code === '0504' || code === '0404') && summer) w *= 1.6;
  if ((code === '0402' || code === '0504') && winter) w *= 0.4;
  return w;
}

const titles: Record<string, string[]> = {
  '0101': ['楼上漏水引发邻里矛盾', '邻居噪音扰民纠纷', '楼道杂物占用引发争执'],
  '0102': ['家庭矛盾需调解', '赡养老人纠纷'],
  '0103': ['装修工人讨要工资', '商户拖欠员工工资'],
  '0104': ['物业费收取争议', '小区物业服务不到位'],
  '0201': ['空置房屋夜间可疑人员出入', '可疑人员在小区徘徊'],
  '0202': ['疑似电信诈骗线索', '疑似非法集资宣传'],
  '0203': ['出租房屋未登记', '新入住流动人口未登记'],
  '0301': ['消防通道被车辆堵塞', '楼道灭火器过期', '消防栓损坏'],
  '0302': ['楼道飞线充电', '燃气管道异味', '电动车楼内充电'],
  '0303': ['小作坊违规存放液化气', '门店违规储存易燃物'],
  '0304': ['老旧楼房外墙脱落', '阳台护栏松动'],
  '0401': ['垃圾桶满溢未清运', '小区角落垃圾堆积', '建筑垃圾乱倒'],
  '0402': ['占道经营摊点', '门前乱堆乱放', '早市占道'],
  '0403': ['车辆乱停占用人行道', '小区门口违规停车', '僵尸车长期占用车位'],
  '0404': ['餐馆油烟扰民', '夜间施工噪声', '烧烤油烟'],
  '0501': ['井盖缺失', '路面坑洼', '人行道破损'],
  '0502': ['路灯不亮', '路灯白天常亮', '小区照明损坏'],
  '0503': ['下水道堵塞', '自来水管漏水', '停水未通知'],
  '0504': ['树木枝杈影响通行', '绿地被毁', '枯树存在倒伏隐患'],
  '0601': ['医保报销咨询', '社保缴费问题求助'],
  '0602': ['失业人员求职帮扶', '就业培训咨询'],
  '0603': ['公租房申请咨询', '廉租房维修'],
  '0701': ['独居老人多日未出门', '空巢老人需要帮助'],
  '0702': ['困难家庭临时救助', '残疾人出行困难'],
  '0703': ['重点人员动态异常', '社区矫正人员情况变化'],
  '0801': ['新生儿户籍信息变更', '人员迁出信息更新'],
  '0802': ['商铺更换经营者', '房屋用途变更'],
  '0901': ['暴雨后地下室进水', '广告牌松动有坠落危险'],
  '0902': ['小区发现多例发热病人', '公共场所卫生问题'],
  '1001': ['办事流程咨询', '老人求助代办'],
  '1002': ['建议增设健身器材', '建议增加公交班次'],
};
const winterTitles: Record<string, string[]> = {
  '0503': ['暖气不热', '供暖管道漏水', '室温不达标', '暖气片漏水'],
  '0501': ['人行道积雪结冰', '路面结冰易滑倒', '积雪未及时清理'],
  '0302': ['电暖器使用不当存在隐患', '燃气取暖设备安全隐患'],
};

const channels: [string, number][] = [
  ['grid_worker', 38],
  ['resident', 18],
  ['wish', 4],
  ['hotline', 27],
  ['department', 5],
  ['leader', 2],
  ['system', 6],
];

const surnames = [...'王李张刘陈杨赵黄周吴徐孙马朱胡郭何林高罗'];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function weighted<T>(random: () => number, items: readonly [T, number][]): T {
  const total = items.reduce((s, [, w]) => s + w, 0);
  let r = random() * total;
  for (const [item, w] of items) {
    r -= w;
    if (r < 0) return item;
  }
  return items[items.length - 1]![0];
}

/** A deterministic version-4 UUID from the PRNG. */
function uuid(random: () => number): string {
  const bytes = Array.from({ length: 16 }, () => Math.floor(random() * 256));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A masked mobile number ('139****0427'): never a whole number, so no real phone is stored. */
function maskedPhone(random: () => number): string {
  const prefix = pick(random, ['135', '138', '139', '150', '151', '155', '158', '186', '187', '189']);
  return `${prefix}****${String(Math.floor(random() * 10_000)).padStart(4, '0')}`;
}

function insidePolygon(point: Point, ring: readonly Point[]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi > point[1] !== yj > point[1] && point[0] < ((xj - xi) * (point[1] - yi)) / (yj - yi) + xi)
      inside = !inside;
  }
  return inside;
}

/** A point strictly inside the grid (rejection sampling in its bounding box, shrunk towards the centroid). */
function pointIn(grid: TerritoryRegion, random: () => number): Point {
  const xs = grid.ring.map((p) => p[0]);
  const ys = grid.ring.map((p) => p[1]);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  for (let attempt = 0; attempt < 50; attempt++) {
    const x = minX + random() * (maxX - minX);
    const y = minY + random() * (maxY - minY);
    // Pull 10 % towards the centroid: keeps points off the boundary (a rounded point must stay inside).
    const p: Point = [
      roundCoordinate(x + (grid.centroid[0] - x) * 0.1),
      roundCoordinate(y + (grid.centroid[1] - y) * 0.1),
    ];
    if (insidePolygon(p, grid.ring)) return p;
  }
  return grid.centroid;
}

interface Places {
  grids: TerritoryRegion[];
  byCode: Map<string, TerritoryRegion>;
  weights: [TerritoryRegion, number][];
}

function placesOf(regions: readonly TerritoryRegion[]): Places {
  const grids = regions.filter((r) => r.level === 'grid');
  const byCode = new Map(regions.map((r) => [r.code, r]));
  // Busy grids: cells are small where people are dense (the generator sizes them by population).
  const weights = grids.map((g): [TerritoryRegion, number] => [g, Math.abs(signedArea(g.ring)) ** -0.6]);
  return { grids, byCode, weights };
}

/** Simulates one case through the workflow until `now`. */
function simulate(options: {
  random: () => number;
  item: CategoryItem;
  channel: string;
  grid: TerritoryRegion;
  places: Places;
  reportedMs: number;
  nowMs: number;
  calendar: WorkCalendar;
  departmentKeys: readonly string[];
  previousInGrid: string | null;
  clientId: string;
}): Omit<DemoCase, 'serial' | 'title' | 'description' | 'lng' | 'lat' | 'address' | 'hotline'> {
  const { random, item, channel, grid, places, reportedMs, nowMs, calendar } = options;
  const community = places.byCode.get(grid.parentCode!)!;
  const street = places.byCode.get(community.parentCode!)!;
  // Intake's rule: hotline, department, leader and system cases go to the street centre; the others to the community.
  const streetOwned = ['hotline', 'department', 'leader', 'system'].includes(channel);
  const operator = `op-${streetOwned ? street.code : community.code}`;
  const worker = `gw-${grid.code}`;
  const timeline: TimelineSeed[] = [];
  let status = 'reported';
  let t = reportedMs;
  const iso = (ms: number) => new Date(ms).toISOString();
  const add = (
    ms: number,
    actor: string | null,
    role: string,
    action: string,
    to: string /* a status, or 'same' */,
    data: Record<string, unknown> = {},
    comment: string | null = null,
  ) => {
    const next = to === 'same' ? status : to;
    timeline.push({ at: iso(ms), actor, role, action, from: status, to: next, comment, data });
    status = next;
  };
  /** Takes a step `hours` later if that is still before now; false when the case stops here. */
  /** Usually `hours`; now and then a case waits in a queue for one to four days (a backlog at that stage). */
  // A centre works through its inbox, but the last few days' cases still queue up: a command centre opens its
  // workbench on cases waiting to be verified, filed and dispatched, not on an empty inbox.
  const recent = nowMs - reportedMs < 3 * 24 * hourMs;
  const wait = (hours: number, backlog: number) =>
    random() < (recent ? Math.max(backlog, 0.3) : backlog) ? 24 + random() * 72 : hours;
  const step = (hours: number): boolean => {
    const next = t + Math.max(0.05, hours) * hourMs;
    if (next >= nowMs) return false;
    t = next;
    return true;
  };

  const reporterUser = channel === 'grid_worker' ? worker : null;
  timeline.push({
    at: iso(reportedMs),
    actor: reporterUser,
    role: channel === 'grid_worker' ? 'grid_worker' : channel === 'hotline' ? 'hotline_operator' : channel,
    action: 'report',
    from: null,
    to: 'reported',
    comment: null,
    data: { channel },
  });

  const c = {
    urgent: random() < (item.code.startsWith('09') || item.code === '0302' ? 0.4 : 0.03),
    supervision: 'none' as DemoCase['supervision'],
    instructed: false,
    extensionRequested: false,
    parentClientId: null as string | null,
    reworkCount: 0,
    evaluation: null as string | null,
    ownerRegionCode: streetOwned ? street.code : community.code,
    ownerLevel: streetOwned ? 'street' : 'community',
    leadDepartment: null as string | null,
    coDepartments: [] as string[],
    ccDepartments: [] as string[],
    acceptDueAt: null as number | null,
    handleDueAt: null as number | null,
    inspectDueAt: null as number | null,
    filedAt: null as number | null,
    dispatchedAt: null as number | null,
    acceptedAt: null as number | null,
    respondedAt: null as number | null,
    closedAt: null as number | null,
    evaluatedAt: null as number | null,
  };

  const result = () => {
    const open = !['closed', 'evaluated', 'not_filed', 'duplicate'].includes(status);
    const dueAt =
      status === 'dispatched'
        ? c.acceptDueAt
        : status === 'filed' || status === 'in_progress'
          ? c.handleDueAt
          : status === 'responded' || status === 'inspecting'
            ? c.inspectDueAt
            : null;
    const overdue = open && status !== 'suspended' && dueAt !== null && dueAt < nowMs;
    if (overdue) {
      // The deadline scanner: marked overdue at the deadline (yellow card), red at twice the handling window.
      const lastAt = Date.parse(timeline[timeline.length - 1]!.at);
      const markedAt = Math.min(Math.max(dueAt, lastAt + 60_000), nowMs - 3000);
      const yellowAt = Math.min(markedAt + hourMs, nowMs - 2000);
      timeline.push({
        at: iso(markedAt),
        actor: null,
        role: 'system',
        action: 'overdue',
        from: status,
        to: status,
        comment: null,
        data: { dueAt: iso(dueAt) },
      });
      const window = c.handleDueAt !== null && c.filedAt !== null ? c.handleDueAt - c.filedAt : dayMs;
      const red = nowMs - dueAt > window;
      c.supervision = red ? 'red' : 'yellow';
      timeline.push({
        at: iso(yellowAt),
        actor: null,
        role: 'system',
        action: 'supervised',
        from: status,
        to: status,
        comment: null,
        data: { level: 'yellow' },
      });
      if (red)
        timeline.push({
          at: iso(Math.min(Math.max(dueAt + window, yellowAt + 500), nowMs - 1000)),
          actor: null,
          role: 'system',
          action: 'supervised',
          from: status,
          to: status,
          comment: null,
          data: { level: 'red' },
        });
    }
    if (!overdue && open && c.urgent && c.filedAt !== null) {
      // 督办: the district leader follows urgent open cases (a normal supervision card).
      const at = Date.parse(timeline[timeline.length - 1]!.at) + 60_000;
      if (at < nowMs) {
        c.supervision = 'normal';
        timeline.push({
          at: iso(at),
          actor: 'demo-leader',
          role: 'leader',
          action: 'supervise',
          from: status,
          to: status,
          comment: '请加快办理',
          data: { level: 'normal' },
        });
      }
    }
    timeline.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    const toIso = (ms: number | null) => (ms === null ? null : iso(ms));
    return {
      clientId: options.clientId,
      categoryCode: item.code,
      channel,
      urgent: c.urgent,
      status,
      gridCode: grid.code,
      regionPath: grid.path,
      ownerRegionCode: c.ownerRegionCode,
      ownerLevel: c.ownerLevel,
      leadDepartment: c.leadDepartment,
      coDepartments: c.coDepartments,
      ccDepartments: c.ccDepartments,
      reporter: reporterUser,
      reporterName: null,
      reporterContactMasked: null,
      peopleInvolved: null,
      supervision: c.supervision,
      instructed: c.instructed,
      extensionRequested: c.extensionRequested,
      parentClientId: c.parentClientId,
      reworkCount: c.reworkCount,
      evaluation: c.evaluation,
      acceptDueAt: toIso(c.acceptDueAt),
      handleDueAt: toIso(c.handleDueAt),
      inspectDueAt: toIso(c.inspectDueAt),
      dueAt: open ? toIso(dueAt) : null,
      overdue,
      overdueSince: overdue ? toIso(dueAt) : null,
      reportedAt: iso(reportedMs),
      filedAt: toIso(c.filedAt),
      dispatchedAt: toIso(c.dispatchedAt),
      acceptedAt: toIso(c.acceptedAt),
      respondedAt: toIso(c.respondedAt),
      closedAt: toIso(c.closedAt),
      evaluatedAt: toIso(c.evaluatedAt),
      timeline,
    };
  };

  // 简易程序: a grid worker fixes a small matter on the spot (filed and closed at once).
  if (channel === 'grid_worker' && item.fixOnSpot && random() < 0.55) {
    if (!step(0.2 + random() * 0.8)) return result();
    add(t, worker, 'grid_worker', 'fixOnSpot', 'closed', {}, '现场已处置');
    c.filedAt = t;
    c.closedAt = t;
    return result();
  }
  if (channel !== 'grid_worker') {
    if (!step(wait(0.3 + random() * 2, 0.06))) return result();
    add(t, operator, 'centre_operator', 'verify', 'verifying');
    const r = random();
    if (r < 0.025 && options.previousInGrid) {
      if (!step(0.5 + random() * 3)) return result();
      c.parentClientId = options.previousInGrid;
      add(t, operator, 'centre_operator', 'mergeDuplicate', 'duplicate', {}, '与已有事件重复,合并处理');
      return result();
    }
    if (r < 0.045) {
      if (!step(0.5 + random() * 3)) return result();
      add(t, operator, 'centre_operator', 'notFile', 'not_filed', {}, '不属于受理范围');
      return result();
    }
  }
  if (!step(wait(0.5 + random() * 5, 0.06))) return result();
  add(t, operator, 'centre_operator', 'file', 'filed');
  c.filedAt = t;
  const handleDue = calendar.addWorkingDays(new Date(t), item.handleWorkingDays).dueAt.getTime();
  c.handleDueAt = handleDue;
  if (channel === 'leader') {
    if (!step(0.05)) return result();
    c.instructed = true;
    add(t, 'demo-leader', 'leader', 'instruct', 'same', {}, '请相关部门尽快办理');
  }
  // 大事全网联动: some go one level up (community → street) before dispatch.
  if (random() < 0.06 && !streetOwned) {
    if (!step(0.5 + random() * 2)) return result();
    add(t, operator, 'centre_operator', 'escalate', 'same', { to: street.code }, '需街道协调');
    c.ownerRegionCode = street.code;
    c.ownerLevel = 'street';
  }
  const ownerOperator = `op-${c.ownerRegionCode}`;
  const lead = item.departmentKey ?? 'community';
  let reopened = false;
  // dispatch → accept → respond → inspect, with reworks; a dissatisfied rating may reopen once.
  for (let round = 0; round < 4; round++) {
    if (round === 0) {
      if (!step(wait(0.3 + random() * 3, 0.05))) return result();
      c.leadDepartment = lead;
      if (random() < 0.15)
        c.coDepartments = [
          pick(
            random,
            options.departmentKeys.filter((k) => k !== lead),
          ),
        ];
      if (random() < 0.1)
        c.ccDepartments = [
          pick(
            random,
            options.departmentKeys.filter((k) => k !== lead && !c.coDepartments.includes(k)),
          ),
        ];
      add(t, ownerOperator, 'centre_operator', 'dispatch', 'dispatched', {
        lead,
        co: c.coDepartments,
        cc: c.ccDepartments,
      });
      c.dispatchedAt = t;
    }
    c.acceptDueAt = t + item.acceptHours * hourMs;
    // 报到: departments accept, mostly within the limit.
    if (!step(wait(item.acceptHours * (random() < 0.9 ? 0.2 + random() * 0.7 : 1.1 + random()), 0.03)))
      return result();
    add(t, `dh-${lead}`, 'department_handler', 'accept', 'in_progress');
    c.acceptedAt = t;
    if (round === 0 && random() < 0.05) {
      if (!step(1 + random() * 4)) return result();
      add(t, `dh-${lead}`, 'department_handler', 'suspend', 'suspended', {}, '等待配件到货');
      const pause = 48 + random() * 96;
      if (!step(pause)) return result();
      add(t, `dh-${lead}`, 'department_handler', 'resume', 'in_progress');
      c.handleDueAt += pause * hourMs;
    }
    if (round === 0 && random() < 0.03) {
      if (!step(2 + random() * 10)) return result();
      c.extensionRequested = true;
      add(
        t,
        `dh-${lead}`,
        'department_handler',
        'requestExtension',
        'same',
        { workingDays: 3 },
        '需协调产权单位',
      );
      if (!step(1 + random() * 4)) return result();
      c.extensionRequested = false;
      c.handleDueAt = calendar.addWorkingDays(new Date(c.handleDueAt), 3).dueAt.getTime();
      add(t, ownerOperator, 'centre_operator', 'approveExtension', 'same', { workingDays: 3 });
    }
    // Most respond within their window; about one in ten late.
    const left = Math.max(2 * hourMs, c.handleDueAt - t) / hourMs;
    const fraction = random() < 0.9 ? 0.15 + random() * 0.8 : 1.05 + random() * 1.6;
    if (!step(left * fraction)) return result();
    add(t, `dh-${lead}`, 'department_handler', 'respond', 'responded', {}, '已处置完毕');
    c.respondedAt = t;
    c.inspectDueAt = calendar.addWorkingDays(new Date(t), item.inspectWorkingDays).dueAt.getTime();
    const inspector = random() < 0.7 ? worker : ownerOperator;
    const inspectorRole = inspector === worker ? 'grid_worker' : 'centre_operator';
    const onSite = random() < 0.3;
    if (onSite) {
      if (!step(1 + random() * 6)) return result();
      add(t, inspector, inspectorRole, 'startInspection', 'inspecting');
    }
    if (!step(onSite ? 6 + random() * 30 : 1 + random() * 14)) return result();
    if (round < 2 && random() < 0.06) {
      // 返工: inspection fails, back to the department.
      c.reworkCount += 1;
      add(t, inspector, inspectorRole, 'inspect', 'dispatched', { result: 'fail' }, '现场核查未整改到位');
      c.dispatchedAt = t;
      c.handleDueAt = Math.max(c.handleDueAt, calendar.addWorkingDays(new Date(t), 1).dueAt.getTime());
      continue;
    }
    add(t, inspector, inspectorRole, 'inspect', 'closed', { result: 'pass' });
    c.closedAt = t;
    // 评价: the reporter rates it, or the hotline calls back; staff-raised cases are rated less often.
    const rates = ['resident', 'wish', 'hotline'].includes(channel) ? 0.85 : 0.35;
    if (random() >= rates) return result();
    if (!step(2 + random() * 46)) return result();
    const late = c.closedAt > c.handleDueAt;
    const evaluation = weighted<string>(random, [
      ['satisfied', late ? 60 : 80],
      ['basically_satisfied', 14],
      ['dissatisfied', late ? 22 : 5],
    ]);
    c.evaluation = evaluation;
    c.evaluatedAt = t;
    add(
      t,
      channel === 'hotline' ? 'demo-hotline' : null,
      channel === 'hotline' ? 'hotline_operator' : 'resident',
      'evaluate',
      'evaluated',
      { evaluation },
    );
    if (evaluation !== 'dissatisfied' || reopened || random() >= 0.3) return result();
    if (!step(2 + random() * 20)) return result();
    reopened = true;
    add(t, ownerOperator, 'centre_operator', 'reopen', 'dispatched', {}, '群众不满意,重新办理');
    c.closedAt = null;
    c.dispatchedAt = t;
    c.handleDueAt = calendar.addWorkingDays(new Date(t), item.handleWorkingDays).dueAt.getTime();
  }
  return result();
}

/**
 * Generates the demo cases (pure: same input, same output). `regions` is the generated demo city; `items` the
 * taxonomy's items; `departmentKeys` the codes of the departments.
 */
export function generateDemoCases(options: {
  regions: readonly TerritoryRegion[];
  items: readonly CategoryItem[];
  departmentKeys: readonly string[];
  calendar: WorkCalendar;
  now: Date;
  perDay?: number;
}): DemoCase[] {
  const { items, calendar } = options;
  const random = createRandom('demo-cases:v1');
  const places = placesOf(options.regions);
  const nowMs = options.now.getTime();
  const startMs = nowMs - demoCaseDays * dayMs;
  const itemByCode = new Map(items.map((i) => [i.code, i]));
  const perDay = options.perDay ?? 38;
  const lastInGrid = new Map<string, string>();
  const drafts: { reportedMs: number; make: () => DemoCase }[] = [];
  for (let d = 0; d < demoCaseDays; d++) {
    const dayStart = startMs + d * dayMs;
    const weekday = new Date(dayStart + 8 * hourMs).getUTCDay();
    const count = Math.round(
      perDay * (weekday === 0 || weekday === 6 ? 0.7 : 1.08) * (0.85 + random() * 0.3),
    );
    const month = chinaMonth(dayStart);
    const dayOfMonth = Number(chinaDate(dayStart).slice(8, 10));
    const itemWeights = items.map((i): [CategoryItem, number] => [i, itemWeight(i.code, month, dayOfMonth)]);
    const times = Array.from({ length: count }, () => {
      // Office and daylight hours, 07:00–21:00 China time, over the day that starts at dayStart.
      const chinaMidnight = Date.parse(`${chinaDate(dayStart)}T00:00:00+08:00`);
      return chinaMidnight + (7 + random() * 14) * hourMs;
    })
      .filter((ms) => ms >= startMs && ms < nowMs)
      .sort((a, b) => a - b);
    for (const reportedMs of times) {
      const grid = weighted(random, places.weights);
      const item = weighted(random, itemWeights);
      const channel = weighted(random, channels);
      const clientId = uuid(random);
      const caseRandom = createRandom(`demo-case:${clientId}`);
      const previousInGrid = lastInGrid.get(grid.code) ?? null;
      lastInGrid.set(grid.code, clientId);
      drafts.push({
        reportedMs,
        make: () => {
          const simulated = simulate({
            random: caseRandom,
            item: itemByCode.get(item.code)!,
            channel,
            grid,
            places,
            reportedMs,
            nowMs,
            calendar,
            departmentKeys: options.departmentKeys,
            previousInGrid,
            clientId,
          });
          const inHeating = chinaMonth(reportedMs) >= 11 || chinaMonth(reportedMs) <= 3;
          const title = pick(
            caseRandom,
            (inHeating ? winterTitles[item.code] : undefined) ?? titles[item.code] ?? ['群众反映问题'],
          );
          const [lng, lat] = pointIn(grid, caseRandom);
          const building = 1 + Math.floor(caseRandom() * 40);
          const address = `${grid.name}${building}号楼附近`;
          const callerName = `${pick(caseRandom, surnames)}${caseRandom() < 0.5 ? '女士' : '先生'}`;
          const phone = maskedPhone(caseRandom);
          const resident = channel === 'resident' || channel === 'wish';
          const anonymous = resident && caseRandom() < 0.3;
          const hotline =
            channel === 'hotline'
              ? {
                  callerName,
                  phoneMasked: phone,
                  callTime: new Date(reportedMs - (5 + caseRandom() * 30) * 60_000).toISOString(),
                  workOrderNo: `12345-${chinaDate(reportedMs).replaceAll('-', '')}-${String(
                    Math.floor(caseRandom() * 10_000),
                  ).padStart(4, '0')}`,
                }
              : null;
          return {
            ...simulated,
            serial: '',
            title,
            description: `${address}${title},请核实处理。`,
            lng,
            lat,
            address,
            hotline,
            reporterName: anonymous
              ? '匿名'
              : resident || channel === 'hotline'
                ? callerName
                : channel === 'department'
                  ? '部门交办'
                  : channel === 'leader'
                    ? '包联领导'
                    : channel === 'system'
                      ? '预警系统'
                      : null,
            reporterContactMasked: resident || channel === 'hotline' ? phone : null,
            peopleInvolved: item.code.startsWith('01') ? 2 + Math.floor(caseRandom() * 5) : null,
          };
        },
      });
    }
  }
  drafts.sort((a, b) => a.reportedMs - b.reportedMs);
  // Serials per year and district, in report order: <year>-<district code>-<6-digit sequence>.
  const counters = new Map<string, number>();
  return drafts.map(({ reportedMs, make }) => {
    const made = make();
    const district = made.regionPath.split('.')[1]!;
    const key = `${chinaDate(reportedMs).slice(0, 4)}-${district}`;
    const next = (counters.get(key) ?? 0) + 1;
    counters.set(key, next);
    made.serial = `${key}-${String(next).padStart(6, '0')}`;
    return made;
  });
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

/** Taxonomy items with their limits, as the seed needs them. */
export async function categoryItems(ex: Executor): Promise<CategoryItem[]> {
  const list = await rows<{
    code: string;
    department_key: string | null;
    fix_on_spot: boolean;
    accept_hours: string | number | null;
    handle_working_days: number | null;
    inspect_working_days: number | null;
  }>(
    ex,
    sql`select code, department_key, fix_on_spot, accept_hours, handle_working_days, inspect_working_days
        from case_category where parent_code is not null and active order by code`,
  );
  return list.map((r) => ({
    code: r.code,
    departmentKey: r.department_key,
    fixOnSpot: r.fix_on_spot,
    acceptHours: Number(r.accept_hours ?? 8),
    handleWorkingDays: r.handle_working_days ?? 5,
    inspectWorkingDays: r.inspect_working_days ?? 1,
  }));
}

/** Writes generated cases in bulk (json_to_recordset chunks), with their departments, timelines and serials. */
export async function insertDemoCases(ex: Executor, cases: readonly DemoCase[], now: Date): Promise<number> {
  const nowIso = now.toISOString();
  const caseIds = new Map<string, number>();
  // Actors by user name, looked up once (the staff of the demo city: gw-…, op-…, dh-…, demo-…).
  const names = [...new Set(cases.flatMap((c) => c.timeline.map((e) => e.actor)).filter((a) => a !== null))];
  const users = new Map(
    (
      await rows<{ id: number; username: string }>(
        ex,
        sql`select id::int as id, username from app_user
            where username in (select value from json_array_elements_text(${JSON.stringify(names)}::json))`,
      )
    ).map((u) => [u.username, u.id]),
  );
  for (const chunk of chunks(cases, 1000)) {
    const payload = JSON.stringify(
      chunk.map((c) => ({
        client_id: c.clientId,
        serial: c.serial,
        title: c.title,
        description: c.description,
        category_code: c.categoryCode,
        channel: c.channel,
        urgent: c.urgent,
        status: c.status,
        lng: c.lng,
        lat: c.lat,
        address: c.address,
        grid_code: c.gridCode,
        region_path: c.regionPath,
        owner_region_code: c.ownerRegionCode,
        owner_level: c.ownerLevel,
        lead: c.leadDepartment,
        reporter: c.reporter,
        reporter_name: c.reporterName,
        reporter_contact_masked: c.reporterContactMasked,
        hotline: c.hotline,
        people_involved: c.peopleInvolved,
        supervision: c.supervision,
        instructed: c.instructed,
        extension_requested: c.extensionRequested,
        rework_count: c.reworkCount,
        evaluation: c.evaluation,
        accept_due_at: c.acceptDueAt,
        handle_due_at: c.handleDueAt,
        inspect_due_at: c.inspectDueAt,
        due_at: c.dueAt,
        overdue: c.overdue,
        overdue_since: c.overdueSince,
        reported_at: c.reportedAt,
        filed_at: c.filedAt,
        dispatched_at: c.dispatchedAt,
        accepted_at: c.acceptedAt,
        responded_at: c.respondedAt,
        closed_at: c.closedAt,
        evaluated_at: c.evaluatedAt,
        version: c.timeline.length,
      })),
    );
    const inserted = await rows<{ id: number; client_id: string }>(
      ex,
      sql`insert into grid_case (client_id, serial, title, description, category_code, channel, urgent,
        status, location, address, grid_code, region_path, owner_region_code, owner_region_path, owner_level,
        lead_department_id, reporter_user_id, reporter_name, reporter_contact_masked, hotline, people_involved,
        supervision, instructed, extension_requested, rework_count, evaluation, accept_due_at, handle_due_at,
        inspect_due_at, due_at, overdue, overdue_since, reported_at, filed_at, dispatched_at, accepted_at,
        responded_at, closed_at, evaluated_at, version, created_at, updated_at)
      select r.client_id, r.serial, r.title, r.description, r.category_code, r.channel, r.urgent, r.status,
        ST_SetSRID(ST_MakePoint(r.lng, r.lat), 4326), r.address, r.grid_code, r.region_path, r.owner_region_code,
        o.path, r.owner_level, d.id, u.id, r.reporter_name, r.reporter_contact_masked, r.hotline, r.people_involved,
        r.supervision, r.instructed, r.extension_requested, r.rework_count, r.evaluation, r.accept_due_at,
        r.handle_due_at, r.inspect_due_at, r.due_at, r.overdue, r.overdue_since, r.reported_at, r.filed_at,
        r.dispatched_at, r.accepted_at, r.responded_at, r.closed_at, r.evaluated_at, r.version,
        ${nowIso}::timestamptz, ${nowIso}::timestamptz
      from json_to_recordset(${payload}::json) as r(client_id uuid, serial text, title text, description text,
        category_code text, channel text, urgent boolean, status text, lng float8, lat float8, address text,
        grid_code text, region_path text, owner_region_code text, owner_level text, lead text, reporter text,
        reporter_name text, reporter_contact_masked text, hotline jsonb, people_involved int, supervision text,
        instructed boolean, extension_requested boolean, rework_count int, evaluation text,
        accept_due_at timestamptz, handle_due_at timestamptz, inspect_due_at timestamptz, due_at timestamptz,
        overdue boolean, overdue_since timestamptz, reported_at timestamptz, filed_at timestamptz,
        dispatched_at timestamptz, accepted_at timestamptz, responded_at timestamptz, closed_at timestamptz,
        evaluated_at timestamptz, version int)
      join region o on o.code = r.owner_region_code
      left join department d on d.code = r.lead
      left join app_user u on u.username = r.reporter
      returning id::int as id, client_id::text as client_id`,
    );
    for (const row of inserted) caseIds.set(row.client_id, row.id);

    const departments = chunk.flatMap((c) =>
      c.leadDepartment === null || c.dispatchedAt === null
        ? []
        : [
            {
              client_id: c.clientId,
              code: c.leadDepartment,
              role: 'lead',
              at: c.dispatchedAt,
              status: leadStatus(c),
            },
            ...c.coDepartments.map((code) => ({
              client_id: c.clientId,
              code,
              role: 'co',
              at: c.dispatchedAt,
              status: 'accepted',
            })),
            ...c.ccDepartments.map((code) => ({
              client_id: c.clientId,
              code,
              role: 'cc',
              at: c.dispatchedAt,
              status: 'pending',
            })),
          ],
    );
    if (departments.length > 0)
      await ex.execute(sql`insert into case_department (case_id, department_id, role, status, assigned_at)
        select c.id, d.id, r.role, r.status, r.at
        from json_to_recordset(${JSON.stringify(departments)}::json)
          as r(client_id uuid, code text, role text, status text, at timestamptz)
        join grid_case c on c.client_id = r.client_id
        join department d on d.code = r.code`);

    const timeline = chunk.flatMap((c) =>
      c.timeline.map((e) => ({
        case_id: caseIds.get(c.clientId),
        at: e.at,
        actor_id: e.actor === null ? null : (users.get(e.actor) ?? null),
        role: e.role,
        action: e.action,
        from_status: e.from,
        to_status: e.to,
        comment: e.comment,
        data: e.data,
      })),
    );
    for (const part of chunks(timeline, 4000))
      await ex.execute(sql`insert into case_timeline (case_id, at, actor_id, actor_role, action, from_status, to_status,
          comment, data)
        select r.case_id, r.at, r.actor_id, r.role, r.action, r.from_status, r.to_status, r.comment, r.data
        from json_to_recordset(${JSON.stringify(part)}::json)
          as r(case_id bigint, at timestamptz, actor_id bigint, role text, action text, from_status text,
               to_status text, comment text, data jsonb)`);
  }
  const parents = cases
    .filter((c) => c.parentClientId !== null)
    .map((c) => ({ client_id: c.clientId, parent: c.parentClientId }));
  if (parents.length > 0)
    await ex.execute(sql`update grid_case c set parent_case_id = p.id
      from json_to_recordset(${JSON.stringify(parents)}::json) as r(client_id uuid, parent uuid)
      join grid_case p on p.client_id = r.parent
      where c.client_id = r.client_id`);
  // Serial counters: the last sequence per year and district.
  const last = new Map<string, number>();
  for (const c of cases) {
    const [year, district, sequence] = c.serial.split('-');
    const key = `${year}-${district}`;
    last.set(key, Math.max(last.get(key) ?? 0, Number(sequence)));
  }
  const counters = [...last].map(([key, value]) => {
    const [year, region] = key.split('-');
    return { year: Number(year), region, value };
  });
  if (counters.length > 0)
    await ex.execute(sql`insert into case_serial_counter (year, region_code, last_value)
      select r.year, r.region, r.value from json_to_recordset(${JSON.stringify(counters)}::json)
        as r(year int, region text, value int)
      on conflict (year, region_code) do update set last_value = greatest(case_serial_counter.last_value, excluded.last_value)`);
  return cases.length;
}

function leadStatus(c: DemoCase): string {
  if (c.status === 'dispatched') return 'pending';
  if (c.status === 'in_progress' || c.status === 'suspended') return 'accepted';
  return 'responded';
}

/**
 * Seeds the demo cases into the demo city (called at the end of `seedDemoCity`, after its departments and staff
 * exist). Loads the default taxonomy and holiday calendar first when they are missing (both idempotent).
 */
export async function seedDemoCases(
  db: Database,
  options: { regions: readonly TerritoryRegion[]; now: Date; perDay?: number },
): Promise<{ cases: number; caseMilliseconds: number }> {
  const started = Date.now();
  const count = await db.orm.transaction(async (tx) => {
    await ensureDefaultTaxonomy(tx);
    await ensureDefaultHotlineClassifications(tx);
    await ensureDefaultCalendar(tx);
    const calendar = await getWorkCalendar(tx);
    const items = await categoryItems(tx);
    const departmentKeys = (
      await rows<{ code: string }>(tx, sql`select code from department order by code`)
    ).map((d) => d.code);
    const cases = generateDemoCases({
      regions: options.regions,
      items,
      departmentKeys,
      calendar,
      now: options.now,
      ...(options.perDay !== undefined ? { perDay: options.perDay } : {}),
    });
    return insertDemoCases(tx, cases, options.now);
  });
  // Fresh statistics, so the first queue and KPI queries are planned for the rows just written.
  // The KPI rollup brought up to date with the cases just written (set-based, one drain).
  await db.execScript(
    'analyze grid_case; analyze case_timeline; analyze case_department; select case_kpi_drain();',
  );
  return { cases: count, caseMilliseconds: Date.now() - started };
}

/**
 * Benchmark cases (`npm run wangge -- seed --cases N`): N cases spread over the existing grids (optionally one
 * city's subtree) and over `days` days before `now`, generated set-based in the database (generate_series,
 * md5-derived pseudo-random numbers: deterministic, no clock or random() reads). Milestones follow the status;
 * each case gets the timeline rows that replay to it (report, verify, file or notFile/mergeDuplicate, dispatch,
 * accept, respond, inspect, evaluate). Reworked cases carry rework_count (their fail/redo rows are not
 * generated). Written in chunks of `chunk` cases, one transaction each. Meant for PostgreSQL.
 */
export async function seedScaleCases(
  db: Database,
  options: { count: number; now: Date; days?: number; cityCode?: string; chunk?: number },
): Promise<{ cases: number; timeline: number; milliseconds: number }> {
  const started = Date.now();
  const days = options.days ?? 730;
  const chunkSize = options.chunk ?? 100_000;
  const now = options.now.toISOString();
  await ensureDefaultTaxonomy(db.orm);
  const prefix = options.cityCode ?? null;
  // Grids and items numbered from 1, so a pseudo-random number picks one by modulo.
  await db.execScript(`drop table if exists scale_grid; drop table if exists scale_item;`);
  await db.orm.execute(sql`create unlogged table scale_grid as
    select row_number() over (order by g.code)::int as n, g.code, g.path, p.code as owner_code, p.path as owner_path,
           ST_X(g.centroid) as lng, ST_Y(g.centroid) as lat, split_part(g.path, '.', 1) as city,
           split_part(g.path, '.', 2) as district
    from region g join region p on p.code = g.parent_code
    where g.level = 'grid' and (${prefix}::text is null or g.path = ${prefix} or g.path like ${prefix} || '.%')`);
  await db.orm.execute(sql`create unlogged table scale_item as
    select row_number() over (order by code)::int as n, code, department_key, fix_on_spot,
           coalesce(handle_working_days, 5) as handle_days
    from case_category where parent_code is not null`);
  const sizes = await rows<{ grids: number; items: number }>(
    db.orm,
    sql`select (select count(*)::int from scale_grid) as grids, (select count(*)::int from scale_item) as items`,
  );
  const { grids, items } = sizes[0]!;
  if (grids === 0) throw new Error('seed --cases: no grids (seed a territory first)');
  let timeline = 0;
  for (let offset = 0; offset < options.count; offset += chunkSize) {
    const size = Math.min(chunkSize, options.count - offset);
    const counted = await db.orm.transaction(async (tx) => {
      const range = await rows<{ first: number | null; last: number | null }>(
        tx,
        sql`with base as (
              select s.i, md5('wangge-scale:' || s.i) as h
              from generate_series(${offset + 1}::int, ${offset + size}::int) as s(i)
            ),
            u as (
              select i, h,
                     ('x' || substr(h, 1, 7))::bit(28)::int / 268435456.0 as u1,
                     ('x' || substr(h, 8, 7))::bit(28)::int / 268435456.0 as u2,
                     ('x' || substr(h, 15, 7))::bit(28)::int / 268435456.0 as u3,
                     ('x' || substr(h, 22, 7))::bit(28)::int / 268435456.0 as u4,
                     ('x' || substr(h, 29, 4))::bit(16)::int / 65536.0 as u5
              from base
            ),
            picked as (
              select u.*, g.code as grid_code, g.path as region_path, g.owner_code, g.owner_path, g.lng, g.lat,
                     g.city, g.district, k.code as category_code, k.department_key, k.handle_days,
                     -- evenly spread over the period, oldest first, so serials follow time
                     ${now}::timestamptz - make_interval(secs => (${days} * 86400.0) * (1 - (u.i - 0.5 + (u.u5 - 0.5) * 0.9) / ${options.count}::float8)) as reported_at,
                     case when u.u3 < 0.38 then 'grid_worker' when u.u3 < 0.56 then 'resident' when u.u3 < 0.60 then 'wish'
                          when u.u3 < 0.87 then 'hotline' when u.u3 < 0.92 then 'department' when u.u3 < 0.94 then 'leader'
                          else 'system' end as channel
              from u
              join scale_grid g on g.n = 1 + floor(power(u.u1, 1.3) * ${grids})::int
              join scale_item k on k.n = 1 + floor(u.u2 * ${items})::int
            ),
            staged as (
              select p.*, extract(epoch from (${now}::timestamptz - p.reported_at)) / 86400.0 as age,
                     p.reported_at + interval '2 hours' as filed_at,
                     p.reported_at + make_interval(secs => 86400 * p.handle_days * 1.4) as handle_due_at,
                     case when p.u4 < 0.9 then 0.8 else 1.6 end as pace
              from picked p
            ),
            decided as (
              select s.*,
                     case
                       when s.u4 < 0.025 then 'not_filed'
                       when s.u4 < 0.04 then 'duplicate'
                       when s.age < 0.1 then 'reported'
                       when s.age < 0.15 then 'filed'
                       when s.age < 0.3 then 'dispatched'
                       when s.age < s.handle_days * s.pace * 1.4 then
                         (case when s.u5 < 0.05 then 'suspended' else 'in_progress' end)
                       when s.age < s.handle_days * s.pace * 1.4 + 0.3 then 'responded'
                       when s.u4 > 0.995 then 'in_progress'
                       when s.u5 < 0.55 and s.channel in ('resident', 'wish', 'hotline') then 'evaluated'
                       when s.u5 < 0.2 then 'evaluated'
                       else 'closed' end as status
              from staged s
            ),
            numbered as (
              select d.*, row_number() over (partition by extract(year from d.reported_at at time zone 'Asia/Shanghai'), d.district
                                              order by d.i) as seq,
                     extract(year from d.reported_at at time zone 'Asia/Shanghai')::int as year
              from decided d
            ),
            ins as (insert into grid_case (client_id, serial, title, category_code, channel, urgent, status, location, address,
              grid_code, region_path, owner_region_code, owner_region_path, owner_level, lead_department_id,
              rework_count, evaluation, accept_due_at, handle_due_at, due_at, overdue, overdue_since, reported_at,
              filed_at, dispatched_at, accepted_at, responded_at, closed_at, evaluated_at, created_at, updated_at)
            select (substr(n.h, 1, 8) || '-' || substr(n.h, 9, 4) || '-4' || substr(n.h, 14, 3) || '-a' || substr(n.h, 18, 3) || '-' || substr(n.h, 21, 12))::uuid,
                   n.year || '-' || n.district || '-' || lpad((coalesce(k.last_value, 0) + n.seq)::text, 6, '0'),
                   '基准测试事件 ' || n.i, n.category_code, n.channel, n.u2 < 0.03, n.status,
                   ST_SetSRID(ST_MakePoint(n.lng, n.lat), 4326), null, n.grid_code, n.region_path, n.owner_code,
                   n.owner_path, 'community', case when n.status in ('reported', 'filed', 'not_filed', 'duplicate') then null else dep.id end,
                   case when n.status in ('closed', 'evaluated') and n.u3 > 0.95 then 1 else 0 end,
                   case when n.status = 'evaluated' then
                     (case when n.u1 * 1000 % 1 < 0.8 then 'satisfied' when n.u1 * 1000 % 1 < 0.93 then 'basically_satisfied' else 'dissatisfied' end)
                   end,
                   case when n.status not in ('reported', 'filed', 'not_filed', 'duplicate') then n.filed_at + interval '6 hours' end,
                   case when n.status not in ('reported', 'not_filed', 'duplicate') then n.handle_due_at end,
                   case when n.status in ('filed', 'dispatched', 'in_progress') then n.handle_due_at
                        when n.status = 'responded' then n.handle_due_at + interval '1 day' end,
                   n.status in ('in_progress', 'dispatched', 'filed') and n.handle_due_at < ${now}::timestamptz,
                   case when n.status in ('in_progress', 'dispatched', 'filed') and n.handle_due_at < ${now}::timestamptz then n.handle_due_at end,
                   n.reported_at,
                   case when n.status not in ('reported', 'not_filed', 'duplicate') then n.filed_at end,
                   case when n.status not in ('reported', 'filed', 'not_filed', 'duplicate') then n.filed_at + interval '1 hour' end,
                   case when n.status not in ('reported', 'filed', 'dispatched', 'not_filed', 'duplicate') then n.filed_at + interval '4 hours' end,
                   case when n.status in ('responded', 'closed', 'evaluated') then n.filed_at + make_interval(secs => 86400 * n.handle_days * 1.4 * n.pace) end,
                   case when n.status in ('closed', 'evaluated') then n.filed_at + make_interval(secs => 86400 * n.handle_days * 1.4 * n.pace + 21600) end,
                   case when n.status = 'evaluated' then n.filed_at + make_interval(secs => 86400 * n.handle_days * 1.4 * n.pace + 108000) end,
                   ${now}::timestamptz, ${now}::timestamptz
            from numbered n
            left join case_serial_counter k on k.year = n.year and k.region_code = n.district
            left join department dep on dep.code = case when exists (select 1 from department x where x.code = n.city || '-' || n.department_key)
                                                   then n.city || '-' || n.department_key else n.department_key end
            returning id)
            select min(id)::int as first, max(id)::int as last from ins`,
      );
      const first = range[0]!.first!;
      const last = range[0]!.last!;
      await tx.execute(sql`insert into case_serial_counter (year, region_code, last_value)
        select split_part(serial, '-', 1)::int, split_part(serial, '-', 2), max(split_part(serial, '-', 3)::int)
        from grid_case where id between ${first} and ${last} group by 1, 2
        on conflict (year, region_code) do update set last_value = greatest(case_serial_counter.last_value, excluded.last_value)`);
      const written = await rows<{ n: number }>(
        tx,
        sql`with inserted as (
              insert into case_timeline (case_id, at, actor_role, action, from_status, to_status, data)
              select c.id, v.at, v.role, v.action, v.from_status, v.to_status, v.data::jsonb
              from grid_case c
              cross join lateral (values
                (1, c.reported_at, 'grid_worker', 'report', null, 'reported', '{}'),
                (2, case when c.status in ('not_filed', 'duplicate') then c.reported_at + interval '2 hours' end, 'centre_operator',
                    case when c.status = 'not_filed' then 'notFile' else 'mergeDuplicate' end, 'reported', c.status, '{}'),
                (3, c.filed_at, 'centre_operator', 'file', 'reported', 'filed', '{}'),
                (4, c.dispatched_at, 'centre_operator', 'dispatch', 'filed', 'dispatched', '{}'),
                (5, c.accepted_at, 'department_handler', 'accept', 'dispatched', 'in_progress', '{}'),
                (6, case when c.status = 'suspended' then c.accepted_at + interval '1 hour' end, 'department_handler',
                    'suspend', 'in_progress', 'suspended', '{}'),
                (7, c.responded_at, 'department_handler', 'respond', 'in_progress', 'responded', '{}'),
                (8, c.closed_at, 'grid_worker', 'inspect', 'responded', 'closed', '{"result":"pass"}'),
                (9, c.evaluated_at, 'resident', 'evaluate', 'closed', 'evaluated',
                    '{"evaluation":"' || coalesce(c.evaluation, '') || '"}')
              ) as v(n, at, role, action, from_status, to_status, data)
              where c.id between ${first} and ${last} and v.at is not null
              order by c.id, v.n
              returning 1)
            select count(*)::int as n from inserted`,
      );
      return written[0]!.n;
    });
    timeline += counted;
  }
  // The KPI rollup: rebuilt from all cases in one pass, cheaper than draining millions of queued ids.
  await db.execScript(
    `drop table if exists scale_grid; drop table if exists scale_item; analyze grid_case; analyze case_timeline;
     select case_kpi_rebuild();
     analyze case_kpi_fact, case_kpi_cohort_day, case_kpi_due_day, case_kpi_event_day, case_kpi_overdue;`,
  );
  return { cases: options.count, timeline, milliseconds: Date.now() - started };
}
