import type { ComponentMinorClass, PersonTagKind } from '@wangge/contracts';
import { componentMinorClasses, inspectionIntervalMonths, personTagSpecialty } from '@wangge/contracts';
import type { SecretBox } from '../platform/crypto.ts';
import { rows, sql, type Executor } from '../platform/db.ts';
import { checkCharOf } from '../modules/registry/person-id.ts';
import { sealIdNumber, sealPhone } from '../modules/registry/registry.seal.ts';
import { createRandom, kmBetween, type Point } from './geometry.ts';
import type { TerritoryRegion } from './territory.ts';

/**
 * The demo city's registry 一标三实 (buildings, standard addresses, households, persons, key-population tags,
 * organisations with their inspections, public components): about 30–60 households per grid, generated deterministically from the grid codes and the seed
 * date. Plaintext ID numbers and phones exist only in memory: they are sealed, hashed and masked exactly as the
 * registry service does (`registry.seal.ts`) before anything reaches the database.
 */

type Random = () => number;
type TagFields = Record<string, string | number | boolean | null>;

export interface BuildingSeed {
  key: number;
  gridCode: string;
  name: string;
  kind: 'residential' | 'commercial' | 'public' | 'bungalow';
  floors: number;
  location: Point;
  road: string;
  roadNumber: string;
}

export interface AddressSeed {
  key: number;
  gridCode: string;
  road: string;
  roadNumber: string;
  buildingKey: number | null;
  buildingName: string | null;
  unit: string | null;
  floor: string | null;
  room: string | null;
}

export interface HouseholdSeed {
  key: number;
  kind: 'registered' | 'floating' | 'rental';
  buildingKey: number;
  addressKey: number;
  unit: string | null;
  room: string | null;
  gridCode: string;
}

export interface PersonSeed {
  name: string;
  gender: 'male' | 'female';
  birthDate: string;
  idNumber: string;
  phone: string | null;
  ethnicity: string;
  registeredResidence: string;
  currentAddress: string;
  work: string;
  householdKey: number;
  relation: 'head' | 'spouse' | 'child' | 'parent' | 'grandchild' | 'tenant' | 'other';
  gridCode: string;
  tags: { kind: PersonTagKind; fields: TagFields }[];
}

export interface OrganisationSeed {
  name: string;
  kind:
    | 'shop'
    | 'firm'
    | 'school'
    | 'clinic'
    | 'rental_house'
    | 'internet_cafe'
    | 'hazardous_goods'
    | 'restaurant'
    | 'hotel';
  licenceNo: string;
  safetyName: string;
  safetyPhone: string;
  addressKey: number;
  buildingKey: number | null;
  location: Point;
  gridCode: string;
}

/** An inspection (检查) of an organisation: most places have a recent one, some are overdue, a few never had one. */
export interface InspectionSeed {
  organisationKey: number;
  clientId: string;
  inspectedAt: string;
  result: 'passed' | 'rectify' | 'failed';
  findings: string;
  hazards: string[];
  rectifyBy: string | null;
  gridCode: string;
}

/** A public component (部件): code `<community>-<minor class>-<serial>`, departments by their demo code. */
export interface ComponentSeed {
  code: string;
  minorClass: ComponentMinorClass;
  name: string;
  ownerDepartment: string | null;
  maintainerDepartment: string | null;
  state: 'intact' | 'damaged' | 'lost';
  location: Point;
  gridCode: string;
}

export interface DemoRegistry {
  buildings: BuildingSeed[];
  addresses: AddressSeed[];
  households: HouseholdSeed[];
  persons: PersonSeed[];
  organisations: OrganisationSeed[];
  inspections: InspectionSeed[];
  components: ComponentSeed[];
}

/* ---------------------------------------------------------------- vocabulary */

const surnames = [
  ...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤',
];
const givenFemale = [...'秀英桂芳玉兰凤霞丽娟敏静艳红梅华淑琴慧颖晶雪萍燕宁欣怡婷春丹佳悦雨涵诗琳玲洁'];
const givenMale = [...'伟强磊军勇杰涛明超刚平辉建国志宏鹏飞斌波海东文峰林亮成龙云德福庆忠浩宇博俊鑫'];

/** Where a resident ID number was issued: Jiamusi's districts and counties, other Heilongjiang cities, beyond. */
const homeDistricts: Record<string, string> = {
  '230803': '黑龙江省佳木斯市向阳区',
  '230804': '黑龙江省佳木斯市前进区',
};
const heilongjiangCodes: [string, string][] = [
  ['230811', '黑龙江省佳木斯市郊区'],
  ['230822', '黑龙江省佳木斯市桦南县'],
  ['230826', '黑龙江省佳木斯市桦川县'],
  ['230828', '黑龙江省佳木斯市汤原县'],
  ['230881', '黑龙江省同江市'],
  ['230882', '黑龙江省富锦市'],
  ['230883', '黑龙江省抚远市'],
  ['230102', '黑龙江省哈尔滨市道里区'],
  ['230103', '黑龙江省哈尔滨市南岗区'],
  ['230202', '黑龙江省齐齐哈尔市龙沙区'],
  ['230302', '黑龙江省鸡西市鸡冠区'],
  ['230402', '黑龙江省鹤岗市向阳区'],
  ['230502', '黑龙江省双鸭山市尖山区'],
  ['230602', '黑龙江省大庆市萨尔图区'],
  ['230902', '黑龙江省七台河市新兴区'],
  ['231002', '黑龙江省牡丹江市东安区'],
  ['231202', '黑龙江省绥化市北林区'],
];
const otherProvinceCodes: [string, string][] = [
  ['220102', '吉林省长春市南关区'],
  ['210102', '辽宁省沈阳市和平区'],
  ['370102', '山东省济南市历下区'],
  ['130102', '河北省石家庄市长安区'],
  ['410102', '河南省郑州市中原区'],
];
const mobilePrefixes = [
  '130',
  '131',
  '132',
  '133',
  '134',
  '135',
  '136',
  '137',
  '138',
  '139',
  '150',
  '151',
  '152',
  '153',
  '155',
  '156',
  '157',
  '158',
  '159',
  '166',
  '177',
  '180',
  '181',
  '182',
  '183',
  '185',
  '186',
  '187',
  '188',
  '189',
  '191',
  '199',
];
const roadWords = [...'新华和平胜利友谊红旗建设光明长安东风解放民主幸福文化站前先锋工农永安中山人民松江'];
const roadSuffixes = ['路', '街', '大街', '路', '街'];
const jobs = [
  '企业职工',
  '个体经营',
  '教师',
  '医护人员',
  '机关事业单位',
  '商场营业员',
  '建筑工人',
  '快递员',
  '出租车司机',
  '餐饮服务',
  '农民工',
  '灵活就业',
  '无业',
];
const disabilityCategories = ['肢体', '视力', '听力', '言语', '智力', '精神', '多重'];
const shopWords = [
  '便民超市',
  '水果店',
  '理发店',
  '五金店',
  '药店',
  '烟酒店',
  '粮油店',
  '服装店',
  '手机店',
  '洗衣店',
];
const restaurantWords = ['饺子馆', '烧烤店', '面馆', '家常菜馆', '麻辣烫'];

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const between = (random: Random, low: number, high: number) => low + Math.floor(random() * (high - low + 1));

/* ---------------------------------------------------------------- people */

function givenName(random: Random, gender: 'male' | 'female'): string {
  const pool = gender === 'female' ? givenFemale : givenMale;
  return random() < 0.3 ? pick(random, pool) : `${pick(random, pool)}${pick(random, pool)}`;
}

function surname(random: Random): string {
  return surnames[Math.floor(random() ** 2 * surnames.length)]!;
}

/** A birth date (`YYYY-MM-DD`) of someone who is `age` years old on `today`. */
function birthDateFor(random: Random, age: number, today: Date): string {
  const birthday = new Date(today.getTime());
  birthday.setUTCFullYear(today.getUTCFullYear() - age - 1);
  birthday.setUTCDate(birthday.getUTCDate() + 1 + Math.floor(random() * 364));
  return birthday.toISOString().slice(0, 10);
}

function ageOn(birthDate: string, today: Date): number {
  const [y, m, d] = birthDate.split('-').map(Number) as [number, number, number];
  const month = today.getUTCMonth() + 1;
  const beforeBirthday = month < m || (month === m && today.getUTCDate() < d);
  return today.getUTCFullYear() - y - (beforeBirthday ? 1 : 0);
}

/** A GB 11643 resident ID number: region code, birth date, sequence (odd for men), check character. */
function idNumberFor(random: Random, code: string, birthDate: string, gender: 'male' | 'female'): string {
  const sequence = Math.floor(random() * 499) * 2 + (gender === 'male' ? 1 : 2);
  const first17 = `${code}${birthDate.replaceAll('-', '')}${String(sequence).padStart(3, '0')}`;
  return `${first17}${checkCharOf(first17)}`;
}

function mobile(random: Random): string {
  return `${pick(random, mobilePrefixes)}${String(Math.floor(random() * 1e8)).padStart(8, '0')}`;
}

/* ---------------------------------------------------------------- places */

/** A point well inside a convex ring: a fan triangle from the centroid (by area), pulled 15% towards it. */
function pointInside(random: Random, closedOrOpen: readonly Point[], centre: Point): Point {
  const last = closedOrOpen[closedOrOpen.length - 1]!;
  const closed = last[0] === closedOrOpen[0]![0] && last[1] === closedOrOpen[0]![1];
  const ring = closed ? closedOrOpen : [...closedOrOpen, closedOrOpen[0]!];
  const n = ring.length - 1;
  const areas: number[] = [];
  let total = 0;
  for (let i = 0; i < n; i++) {
    const [ax, ay] = ring[i]!;
    const [bx, by] = ring[i + 1]!;
    const area = Math.abs((ax - centre[0]) * (by - centre[1]) - (bx - centre[0]) * (ay - centre[1])) / 2;
    areas.push(area);
    total += area;
  }
  let target = random() * total;
  let i = 0;
  while (i < n - 1 && target > areas[i]!) target -= areas[i++]!;
  let u = random();
  let v = random();
  if (u + v > 1) [u, v] = [1 - u, 1 - v];
  const [ax, ay] = ring[i]!;
  const [bx, by] = ring[i + 1]!;
  const x = centre[0] + u * (ax - centre[0]) + v * (bx - centre[0]);
  const y = centre[1] + u * (ay - centre[1]) + v * (by - centre[1]);
  const round = (value: number) => Math.round(value * 1e7) / 1e7;
  return [round(centre[0] + 0.85 * (x - centre[0])), round(centre[1] + 0.85 * (y - centre[1]))];
}

/* ---------------------------------------------------------------- the generator */

/**
 * The demo registry, pure and deterministic: the same buildings, households, persons (and their plaintext ID
 * numbers and phones) for the same grids and day. `today` fixes ages and birth dates.
 */
export function generateDemoRegistry(
  regions: readonly TerritoryRegion[],
  options: { today: Date },
): DemoRegistry {
  const { today } = options;
  const grids = regions.filter((r) => r.level === 'grid');
  const city = regions.find((r) => r.level === 'city');
  // Outer grids (the farthest 30% from the city centre) are partly bungalows (平房).
  const distances = grids.map((g) => (city ? kmBetween(g.centroid, city.centroid) : 0)).sort((a, b) => a - b);
  const outerFrom = distances[Math.floor(distances.length * 0.7)] ?? Infinity;
  const registry: DemoRegistry = {
    buildings: [],
    addresses: [],
    households: [],
    persons: [],
    organisations: [],
    inspections: [],
    components: [],
  };
  const usedIds = new Set<string>();
  const usedPhones = new Set<string>();
  const uniqueId = (random: Random, code: string, birthDate: string, gender: 'male' | 'female') => {
    for (;;) {
      const id = idNumberFor(random, code, birthDate, gender);
      if (!usedIds.has(id)) {
        usedIds.add(id);
        return id;
      }
    }
  };
  const uniquePhone = (random: Random) => {
    for (;;) {
      const phone = mobile(random);
      if (!usedPhones.has(phone)) {
        usedPhones.add(phone);
        return phone;
      }
    }
  };

  for (const grid of grids) {
    const random = createRandom(`registry:${grid.code}`);
    const district = grid.code.slice(0, 6);
    const homeResidence = homeDistricts[district] ?? '黑龙江省佳木斯市';
    const outer = kmBetween(grid.centroid, city?.centroid ?? grid.centroid) >= outerFrom;
    const roads = [0, 1].map(
      () => `${pick(random, roadWords)}${pick(random, roadWords)}${pick(random, roadSuffixes)}`,
    );
    let buildingNo = 0;
    let roadNumber = between(random, 1, 60);
    const addBuilding = (kind: BuildingSeed['kind'], floors: number, name: string): BuildingSeed => {
      roadNumber += between(random, 1, 6);
      const building: BuildingSeed = {
        key: registry.buildings.length,
        gridCode: grid.code,
        name,
        kind,
        floors,
        location: pointInside(random, grid.ring, grid.centroid),
        road: pick(random, roads),
        roadNumber: String(roadNumber),
      };
      registry.buildings.push(building);
      return building;
    };
    const addAddress = (
      building: BuildingSeed | null,
      unit: string | null,
      floor: string | null,
      room: string | null,
    ) => {
      const address: AddressSeed = {
        key: registry.addresses.length,
        gridCode: grid.code,
        road: building?.road ?? pick(random, roads),
        roadNumber: building?.roadNumber ?? String((roadNumber += between(random, 1, 4))),
        buildingKey: building?.key ?? null,
        buildingName: building?.name ?? null,
        unit,
        floor,
        room,
      };
      registry.addresses.push(address);
      return address;
    };

    // Homes: rooms of residential blocks (2–4 units, 6–7 floors or an 11/18-storey tower, 2 flats a landing);
    // in outer grids many households live in bungalows instead.
    const householdCount = between(random, 30, 60);
    const bungalowShare = outer ? 0.4 + random() * 0.4 : 0;
    const bungalowHomes = Math.round(householdCount * bungalowShare);
    const blockHomes = householdCount - bungalowHomes;
    interface Home {
      building: BuildingSeed;
      unit: string | null;
      floor: string | null;
      room: string | null;
    }
    const homes: Home[] = [];
    const blocks = blockHomes === 0 ? 0 : Math.max(1, Math.round(blockHomes / between(random, 12, 22)));
    const flats: Home[] = [];
    for (let b = 0; b < blocks; b++) {
      const floors = random() < 0.8 ? between(random, 5, 7) : pick(random, [11, 18]);
      const units = between(random, 2, 4);
      const building = addBuilding('residential', floors, `${++buildingNo}号楼`);
      for (let u = 1; u <= units; u++)
        for (let f = 1; f <= floors; f++)
          for (let r = 1; r <= 2; r++)
            flats.push({ building, unit: `${u}单元`, floor: String(f), room: `${f}0${r}` });
    }
    for (let i = 0; i < blockHomes && flats.length > 0; i++)
      homes.push(flats.splice(Math.floor(random() * flats.length), 1)[0]!);
    for (let i = 0; i < bungalowHomes; i++)
      homes.push({
        building: addBuilding('bungalow', 1, `${++buildingNo}号平房`),
        unit: null,
        floor: null,
        room: null,
      });

    for (const home of homes) {
      const address = addAddress(home.building, home.unit, home.floor, home.room);
      const draw = random();
      const kind: HouseholdSeed['kind'] =
        draw < (outer ? 0.78 : 0.68) ? 'registered' : draw < 0.86 ? 'rental' : 'floating';
      const household: HouseholdSeed = {
        key: registry.households.length,
        kind,
        buildingKey: home.building.key,
        addressKey: address.key,
        unit: home.unit,
        room: home.room,
        gridCode: grid.code,
      };
      registry.households.push(household);
      const currentAddress = `${address.road}${address.roadNumber}号${home.building.kind === 'bungalow' ? '' : `${home.building.name}${home.unit}${home.room}室`}`;
      const members = composeHousehold(random, kind);
      const familyName = surname(random);
      // Where the household's IDs were issued: locals here, newcomers elsewhere in the province or beyond.
      const origin: [string, string] =
        kind === 'registered'
          ? random() < 0.85
            ? [district, homeResidence]
            : pick(random, heilongjiangCodes.slice(0, 7))
          : random() < 0.75
            ? pick(random, heilongjiangCodes)
            : pick(random, otherProvinceCodes);
      const lowIncome = kind === 'registered' && random() < (members.length === 1 ? 0.08 : 0.03);
      const heads: string[] = [];
      for (const member of members) {
        const gender = member.gender ?? (random() < 0.5 ? 'male' : 'female');
        const shareSurname =
          member.relation === 'head' || member.relation === 'child' || member.relation === 'grandchild';
        const name = `${shareSurname ? familyName : surname(random)}${givenName(random, gender)}`;
        const birthDate = birthDateFor(random, member.age, today);
        const age = ageOn(birthDate, today);
        const [code, residence] =
          member.relation === 'tenant' && random() < 0.5 ? pick(random, heilongjiangCodes) : origin;
        const idNumber = uniqueId(random, code, birthDate, gender);
        const hasPhone = age >= 15 && (age < 70 || random() < 0.75);
        const work =
          age < 6
            ? '学龄前'
            : age < 19
              ? '学生'
              : age >= 60
                ? '退休'
                : age < 23 && random() < 0.5
                  ? '学生'
                  : pick(random, jobs);
        const tags: PersonSeed['tags'] = [];
        if (member.tag === 'elderly_alone')
          tags.push({
            kind: 'elderly_alone',
            fields: {
              livingAbility: random() < 0.7 ? '自理' : '半自理',
              careNeeds: pick(random, ['每周探访', '代购生活用品', '定期体检', '紧急呼叫设备']),
              visitFrequency: 'weekly',
            },
          });
        if (member.tag === 'empty_nest')
          tags.push({
            kind: 'empty_nest',
            fields: {
              childrenLiveIn: pick(random, ['外省', '哈尔滨市', '佳木斯市其他区', '国外']),
              visitFrequency: 'monthly',
            },
          });
        if (member.tag === 'left_behind_child')
          tags.push({
            kind: 'left_behind_child',
            fields: {
              guardian: heads[0] ?? null,
              guardianRelation: '祖父母',
              parentsWorkIn: pick(random, ['广东省', '浙江省', '北京市', '上海市', '韩国']),
            },
          });
        if (random() < (age >= 60 ? 0.06 : 0.02))
          tags.push({
            kind: 'disabled',
            fields: {
              category: pick(random, disabilityCategories),
              grade: between(random, 1, 4),
              certificate: true,
            },
          });
        if (lowIncome)
          tags.push({
            kind: 'low_income',
            fields: {
              kind: '城市低保',
              since: `${between(random, 2012, 2025)}-01-01`,
              monthlyAllowance: between(random, 300, 700),
            },
          });
        const adult = age >= 18 && age < 65;
        if (adult && random() < 0.0008) {
          const from = `${between(random, 2024, 2026)}-${String(between(random, 1, 12)).padStart(2, '0')}-01`;
          tags.push({
            kind: 'corrections',
            fields: {
              kind: pick(random, ['缓刑', '假释', '管制', '暂予监外执行']),
              periodFrom: from,
              periodTo: `${Number(from.slice(0, 4)) + between(random, 1, 3)}${from.slice(4)}`,
            },
          });
        }
        if (adult && random() < 0.001)
          tags.push({
            kind: 'released_prisoner',
            fields: {
              releasedOn: `${between(random, 2021, 2026)}-06-01`,
              placement: random() < 0.8 ? '已安置' : '待安置',
            },
          });
        if (adult && age < 55 && random() < 0.0008)
          tags.push({
            kind: 'drug_rehab',
            fields: {
              measure: pick(random, ['社区戒毒', '社区康复']),
              since: `${between(random, 2023, 2026)}-03-01`,
              tested: true,
            },
          });
        if (age >= 18 && random() < 0.004)
          tags.push({
            kind: 'mental_illness_severe',
            fields: {
              riskLevel: between(random, 0, 3),
              guardian: heads[0] ?? null,
              medicationManaged: random() < 0.8,
            },
          });
        if (gender === 'female' && age >= 22 && age <= 38 && random() < 0.04)
          tags.push({ kind: 'pregnant', fields: { gestationWeeks: between(random, 6, 38) } });
        if (adult && random() < 0.0003)
          tags.push({
            kind: 'petitioner_key',
            fields: { topic: pick(random, ['房屋征收', '劳动纠纷', '物业纠纷']) },
          });
        if (member.relation === 'head') heads.push(name);
        registry.persons.push({
          name,
          gender,
          birthDate,
          idNumber,
          phone: hasPhone ? uniquePhone(random) : null,
          ethnicity: ethnicityOf(random),
          registeredResidence: kind === 'registered' ? homeResidence : residence,
          currentAddress: `${grid.name.replace(/第.+网格$/, '')}${currentAddress}`,
          work,
          householdKey: household.key,
          relation: member.relation,
          gridCode: grid.code,
          tags,
        });
      }
    }

    // Organisations and places: a few shops and restaurants in every grid; schools, clinics, hotels, rental houses,
    // an internet café here and there; a hazardous-goods site (filling or LPG station) rarely, mostly outside.
    const kinds: OrganisationSeed['kind'][] = [];
    for (let i = between(random, 2, 5); i > 0; i--) kinds.push(random() < 0.7 ? 'shop' : 'restaurant');
    if (random() < 0.25) kinds.push('firm');
    if (random() < 0.08) kinds.push('school');
    if (random() < 0.15) kinds.push('clinic');
    if (random() < 0.06) kinds.push('hotel');
    if (random() < 0.2) kinds.push('rental_house');
    if (random() < 0.05) kinds.push('internet_cafe');
    if (random() < (outer ? 0.06 : 0.01)) kinds.push('hazardous_goods');
    const residential = registry.buildings.filter(
      (b) => b.gridCode === grid.code && b.kind === 'residential',
    );
    for (const kind of kinds) {
      const ownBuilding =
        kind === 'school' || kind === 'clinic' || kind === 'hotel'
          ? addBuilding(
              kind === 'hotel' ? 'commercial' : 'public',
              kind === 'school' ? 4 : 3,
              `${++buildingNo}号${kind === 'school' ? '教学楼' : kind === 'clinic' ? '卫生服务站' : '商务楼'}`,
            )
          : null;
      // Shops sit on the ground floor of a block (底商) when there is one.
      const building =
        ownBuilding ??
        (kind !== 'hazardous_goods' && residential.length > 0 && random() < 0.6
          ? pick(random, residential)
          : null);
      const address = addAddress(building, null, building ? '1' : null, null);
      const word = `${pick(random, roadWords)}${pick(random, roadWords)}`;
      const name = {
        shop: `${word}${pick(random, shopWords)}`,
        restaurant: `${surname(random)}记${pick(random, restaurantWords)}`,
        firm: `佳木斯市${word}${pick(random, ['商贸', '物流', '建筑工程', '科技'])}有限公司`,
        school: `佳木斯市${word}小学`,
        clinic: `${grid.name.replace(/第.+网格$/, '')}卫生服务站`,
        hotel: `${word}宾馆`,
        rental_house: `${address.road}${address.roadNumber}号出租屋`,
        internet_cafe: `${word}网吧`,
        hazardous_goods: random() < 0.5 ? `${word}加油站` : `${word}液化气站`,
      }[kind];
      const safetyGender = random() < 0.6 ? 'male' : 'female';
      registry.organisations.push({
        name,
        kind,
        licenceNo: `${kind === 'shop' || kind === 'restaurant' ? '92' : '91'}${district}MA${Math.floor(
          random() * 36 ** 6,
        )
          .toString(36)
          .toUpperCase()
          .padStart(6, '0')}${between(random, 10, 99)}`,
        safetyName: `${surname(random)}${givenName(random, safetyGender)}`,
        safetyPhone: uniquePhone(random),
        addressKey: address.key,
        buildingKey: building?.key ?? null,
        location: building?.location ?? pointInside(random, grid.ring, grid.centroid),
        gridCode: grid.code,
      });
    }
  }
  addInspections(registry, today);
  addComponents(registry, grids);
  return registry;
}

/* ---------------------------------------------------------------- inspections and components */

const hazardWords: Record<string, string[]> = {
  hazardous_goods: ['静电接地不良', '储罐区无警示标志', '应急器材不全', '作业人员无证'],
  internet_cafe: ['安全出口堵塞', '接纳未成年人', '灭火器过期', '电线私拉乱接'],
  restaurant: ['燃气软管老化', '油烟管道未清洗', '灭火器过期', '后厨杂物堆放'],
  hotel: ['未落实住宿登记', '疏散指示灯损坏', '消防通道堵塞'],
  rental_house: ['电动车室内充电', '群租隔断', '未登记租客', '电线私拉乱接'],
  other: ['灭火器过期', '疏散通道堆放杂物', '电线私拉乱接', '安全出口指示不清'],
};

/** A UUID (version 4 layout) drawn from the seeded random, so the demo's client ids are the same on every run. */
function uuidFrom(random: Random): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = '89ab'[Math.floor(random() * 4)]!;
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** `YYYY-MM-DD` of an instant in China (UTC+8). */
const chinaDay = (at: Date) => new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10);

/**
 * Inspections (检查) by the kind's interval (`inspectionIntervalMonths`): about 80% of places were inspected within
 * their interval (so not due yet), 14% longer ago (overdue), 6% never; a third also have the inspection before.
 * Mostly passed; some to rectify by a deadline two weeks on; a few failed. In office hours, China time.
 */
function addInspections(registry: DemoRegistry, today: Date): void {
  registry.organisations.forEach((organisation, key) => {
    const random = createRandom(`inspections:${organisation.gridCode}:${key}`);
    const intervalDays = inspectionIntervalMonths[organisation.kind] * 30;
    const draw = random();
    if (draw >= 0.94) return;
    const daysAgo =
      draw < 0.8
        ? between(random, 1, Math.max(1, intervalDays - 3))
        : between(random, intervalDays + 3, intervalDays + 60);
    const visits = random() < 0.33 ? [daysAgo + intervalDays - between(random, 0, 5), daysAgo] : [daysAgo];
    for (const ago of visits) {
      // 09:00–16:59 China time, `ago` days before today.
      const day = new Date(today.getTime() - ago * 86_400_000);
      const at = new Date(
        `${chinaDay(day)}T${String(between(random, 9, 16)).padStart(2, '0')}:${String(between(random, 0, 59)).padStart(2, '0')}:00+08:00`,
      );
      const outcome = random();
      const result = outcome < 0.8 ? 'passed' : outcome < 0.95 ? 'rectify' : 'failed';
      const words = hazardWords[organisation.kind] ?? hazardWords.other!;
      const hazards =
        result === 'passed'
          ? []
          : Array.from(new Set([pick(random, words), ...(random() < 0.4 ? [pick(random, words)] : [])]));
      registry.inspections.push({
        organisationKey: key,
        clientId: uuidFrom(random),
        inspectedAt: at.toISOString(),
        result,
        findings: result === 'passed' ? '未发现安全隐患' : `发现隐患：${hazards.join('、')}`,
        hazards,
        rectifyBy: result === 'rectify' ? chinaDay(new Date(at.getTime() + 15 * 86_400_000)) : null,
        gridCode: organisation.gridCode,
      });
    }
  });
}

/**
 * What a grid's street furniture looks like, by weight: manhole covers of every utility, street lights, bins and
 * street trees most; hydrants, signs, a bus shelter, a toilet, boards and cameras here and there. With the owner
 * and maintainer departments of each class (demo department codes).
 */
const componentMix: { minorClass: ComponentMinorClass; weight: number; owner: string; maintainer: string }[] =
  [
    { minorClass: '0101', weight: 8, owner: 'water', maintainer: 'water' },
    { minorClass: '0102', weight: 7, owner: 'housing', maintainer: 'urban-management' },
    { minorClass: '0103', weight: 7, owner: 'housing', maintainer: 'urban-management' },
    { minorClass: '0104', weight: 4, owner: 'power', maintainer: 'power' },
    { minorClass: '0105', weight: 3, owner: 'telecom', maintainer: 'telecom' },
    { minorClass: '0106', weight: 3, owner: 'gas', maintainer: 'gas' },
    { minorClass: '0107', weight: 6, owner: 'water', maintainer: 'emergency' },
    { minorClass: '0108', weight: 2, owner: 'power', maintainer: 'power' },
    { minorClass: '0201', weight: 16, owner: 'urban-management', maintainer: 'urban-management' },
    { minorClass: '0202', weight: 3, owner: 'police', maintainer: 'police' },
    { minorClass: '0203', weight: 1, owner: 'police', maintainer: 'police' },
    { minorClass: '0204', weight: 2, owner: 'urban-management', maintainer: 'urban-management' },
    { minorClass: '0205', weight: 1, owner: 'urban-management', maintainer: 'urban-management' },
    { minorClass: '0301', weight: 0.5, owner: 'urban-management', maintainer: 'urban-management' },
    { minorClass: '0302', weight: 12, owner: 'urban-management', maintainer: 'environment' },
    { minorClass: '0303', weight: 2, owner: 'urban-management', maintainer: 'environment' },
    { minorClass: '0401', weight: 10, owner: 'urban-management', maintainer: 'urban-management' },
    { minorClass: '0402', weight: 2, owner: 'urban-management', maintainer: 'community' },
    { minorClass: '0501', weight: 2, owner: 'urban-management', maintainer: 'urban-management' },
    { minorClass: '0502', weight: 2, owner: 'community', maintainer: 'community' },
    { minorClass: '0601', weight: 3, owner: 'police', maintainer: 'police' },
    { minorClass: '0602', weight: 1.5, owner: 'community', maintainer: 'community' },
  ];
const componentWeightTotal = componentMix.reduce((sum, c) => sum + c.weight, 0);

/** 20–40 public components (部件) per grid; about 3% damaged and a few lost. Serials count per community and class. */
function addComponents(registry: DemoRegistry, grids: readonly TerritoryRegion[]): void {
  const serials = new Map<string, number>();
  for (const grid of grids) {
    const random = createRandom(`components:${grid.code}`);
    for (let i = between(random, 20, 40); i > 0; i--) {
      let target = random() * componentWeightTotal;
      let mix = componentMix[0]!;
      for (const candidate of componentMix) {
        mix = candidate;
        if ((target -= candidate.weight) < 0) break;
      }
      const prefix = `${grid.code.slice(0, 12)}-${mix.minorClass}`;
      const serial = (serials.get(prefix) ?? 0) + 1;
      serials.set(prefix, serial);
      const condition = random();
      registry.components.push({
        code: `${prefix}-${String(serial).padStart(6, '0')}`,
        minorClass: mix.minorClass,
        name: componentMinorClasses[mix.minorClass].zh,
        ownerDepartment: mix.owner,
        maintainerDepartment: mix.maintainer,
        state: condition < 0.03 ? 'damaged' : condition < 0.035 ? 'lost' : 'intact',
        location: pointInside(random, grid.ring, grid.centroid),
        gridCode: grid.code,
      });
    }
  }
}

interface Member {
  relation: PersonSeed['relation'];
  age: number;
  gender?: 'male' | 'female';
  tag?: 'elderly_alone' | 'empty_nest' | 'left_behind_child';
}

/** Who lives in a household (1–5 persons), by kind: families, elderly couples, people alone, tenants. */
function composeHousehold(random: Random, kind: HouseholdSeed['kind']): Member[] {
  const couple = (low: number, high: number, tag?: Member['tag']): Member[] => {
    const age = between(random, low, high);
    const headMale = random() < 0.75;
    return [
      { relation: 'head', age, gender: headMale ? 'male' : 'female', ...(tag ? { tag } : {}) },
      {
        relation: 'spouse',
        age: Math.max(low, age + between(random, -4, 3)),
        gender: headMale ? 'female' : 'male',
        ...(tag ? { tag } : {}),
      },
    ];
  };
  const childOf = (parentAge: number, relation: Member['relation'] = 'child'): Member => ({
    relation,
    age: Math.max(0, parentAge - between(random, 23, 34)),
  });
  const draw = random();
  if (kind !== 'registered') {
    if (draw < 0.4) return [{ relation: 'head', age: between(random, 19, 50) }];
    if (draw < 0.7) return couple(22, 50);
    if (draw < 0.9) {
      const parents = couple(26, 45);
      return [...parents, childOf(parents[0]!.age)];
    }
    return [
      { relation: 'head', age: between(random, 19, 40) },
      ...Array.from({ length: between(random, 1, 2) }, () => ({
        relation: 'tenant' as const,
        age: between(random, 19, 40),
      })),
    ];
  }
  if (draw < 0.09) return [{ relation: 'head', age: between(random, 66, 92), tag: 'elderly_alone' }];
  if (draw < 0.22) return couple(60, 86, 'empty_nest');
  if (draw < 0.3) return [{ relation: 'head', age: between(random, 22, 59) }];
  if (draw < 0.42) return couple(24, 59);
  if (draw < 0.77) {
    const parents = couple(28, 55);
    return [...parents, ...Array.from({ length: random() < 0.75 ? 1 : 2 }, () => childOf(parents[0]!.age))];
  }
  if (draw < 0.95) {
    const parents = couple(35, 55);
    const headAge = parents[0]!.age;
    const elders = Array.from({ length: random() < 0.5 ? 1 : 2 }, (_, i): Member => ({
      relation: 'parent',
      age: headAge + between(random, 24, 32),
      gender: i === 0 ? 'female' : 'male',
    }));
    return [...parents, childOf(headAge), ...elders];
  }
  // Grandparents bringing up grandchildren whose parents work far away (留守儿童).
  const grandparents = couple(55, 75);
  return [
    ...grandparents,
    ...Array.from({ length: random() < 0.7 ? 1 : 2 }, (): Member => ({
      relation: 'grandchild',
      age: between(random, 4, 15),
      tag: 'left_behind_child',
    })),
  ];
}

function ethnicityOf(random: Random): string {
  const draw = random();
  if (draw < 0.92) return '汉族';
  if (draw < 0.96) return '满族';
  if (draw < 0.98) return '朝鲜族';
  if (draw < 0.99) return '蒙古族';
  if (draw < 0.997) return '回族';
  return '赫哲族';
}

/* ---------------------------------------------------------------- the writer */

const chunkSize = 500;

/**
 * `n` consecutive ids from a table's sequence (the seed writes explicit ids so rows can refer to each other). One
 * statement moves the sequence past them; the demo seed runs alone, on an empty registry.
 */
async function reserveIds(ex: Executor, table: string, n: number): Promise<number[]> {
  if (n === 0) return [];
  const [row] = await rows<{ last: number }>(
    ex,
    sql`select setval(pg_get_serial_sequence(${table}, 'id'),
          nextval(pg_get_serial_sequence(${table}, 'id')) + ${n}::int - 1)::int as last`,
  );
  const first = row!.last - n + 1;
  return Array.from({ length: n }, (_, i) => first + i);
}

async function insertChunks<T>(
  ex: Executor,
  items: readonly T[],
  write: (payload: string) => Promise<unknown>,
) {
  for (let i = 0; i < items.length; i += chunkSize)
    await write(JSON.stringify(items.slice(i, i + chunkSize)));
}

export interface RegistryCounts {
  buildings: number;
  addresses: number;
  households: number;
  persons: number;
  personTags: number;
  organisations: number;
  inspections: number;
  components: number;
}

/**
 * Writes the demo registry (see `generateDemoRegistry`) with multi-row inserts of 500 rows, in the caller's
 * transaction. ID numbers and phones are sealed, hashed and masked as the registry service does. Components get
 * their owner and maintainer from `departments` (demo department code → id); inspections are by the grid's
 * worker (`gw-<grid code>`) when that account exists.
 */
export async function seedDemoRegistry(
  ex: Executor,
  options: {
    regions: readonly TerritoryRegion[];
    secrets: SecretBox;
    now: Date;
    departments?: ReadonlyMap<string, number>;
  },
): Promise<RegistryCounts & { sealMs: number; placesMs: number }> {
  const { secrets } = options;
  const now = options.now.toISOString();
  const registry = generateDemoRegistry(options.regions, { today: options.now });
  const pathOf = new Map(options.regions.map((r) => [r.code, r.path]));
  const [buildingIds, addressIds, householdIds, personIds, organisationIds] = [
    await reserveIds(ex, 'building', registry.buildings.length),
    await reserveIds(ex, 'address', registry.addresses.length),
    await reserveIds(ex, 'household', registry.households.length),
    await reserveIds(ex, 'person', registry.persons.length),
    await reserveIds(ex, 'organisation', registry.organisations.length),
  ] as [number[], number[], number[], number[], number[]];
  const buildingId = (key: number | null) => (key === null ? null : buildingIds[key]!);

  await insertChunks(
    ex,
    registry.buildings.map((b) => ({
      id: buildingIds[b.key],
      grid_code: b.gridCode,
      region_path: pathOf.get(b.gridCode),
      name: b.name,
      kind: b.kind,
      floors: b.floors,
      lng: b.location[0],
      lat: b.location[1],
    })),
    (payload) =>
      ex.execute(sql`insert into building (id, grid_code, region_path, name, kind, floors, location, created_at)
        select r.id, r.grid_code, r.region_path, r.name, r.kind, r.floors, ST_SetSRID(ST_MakePoint(r.lng, r.lat), 4326),
               ${now}::timestamptz
        from json_to_recordset(${payload}::json)
          as r(id bigint, grid_code text, region_path text, name text, kind text, floors int, lng float8, lat float8)`),
  );
  await insertChunks(
    ex,
    registry.addresses.map((a) => ({
      id: addressIds[a.key],
      grid_code: a.gridCode,
      region_path: pathOf.get(a.gridCode),
      road: a.road,
      road_number: a.roadNumber,
      building_id: buildingId(a.buildingKey),
      building_name: a.buildingName,
      unit: a.unit,
      floor: a.floor,
      room: a.room,
    })),
    (payload) =>
      ex.execute(sql`insert into address (id, grid_code, region_path, road, road_number, building_id, building_name,
          unit, floor, room, created_at)
        select r.id, r.grid_code, r.region_path, r.road, r.road_number, r.building_id, r.building_name, r.unit,
               r.floor, r.room, ${now}::timestamptz
        from json_to_recordset(${payload}::json)
          as r(id bigint, grid_code text, region_path text, road text, road_number text, building_id bigint,
               building_name text, unit text, floor text, room text)`),
  );
  await insertChunks(
    ex,
    registry.households.map((h) => ({
      id: householdIds[h.key],
      kind: h.kind,
      building_id: buildingId(h.buildingKey),
      address_id: addressIds[h.addressKey],
      unit: h.unit,
      room: h.room,
      grid_code: h.gridCode,
      region_path: pathOf.get(h.gridCode),
    })),
    (payload) =>
      ex.execute(sql`insert into household (id, kind, building_id, address_id, unit, room, grid_code, region_path,
          created_at)
        select r.id, r.kind, r.building_id, r.address_id, r.unit, r.room, r.grid_code, r.region_path, ${now}::timestamptz
        from json_to_recordset(${payload}::json)
          as r(id bigint, kind text, building_id bigint, address_id bigint, unit text, room text, grid_code text,
               region_path text)`),
  );

  const sealStarted = Date.now();
  const personRows = registry.persons.map((p, index) => {
    const id = sealIdNumber(secrets, p.idNumber);
    const phone = p.phone === null ? null : sealPhone(secrets, p.phone);
    return {
      id: personIds[index],
      name: p.name,
      gender: p.gender,
      birth_date: p.birthDate,
      id_cipher: id.cipher,
      id_key_id: id.keyId,
      id_hash: id.hash,
      id_masked: id.masked,
      phone_cipher: phone?.cipher ?? null,
      phone_key_id: phone?.keyId ?? null,
      phone_hash: phone?.hash ?? null,
      phone_masked: phone?.masked ?? null,
      ethnicity: p.ethnicity,
      registered_residence: p.registeredResidence,
      current_address: p.currentAddress,
      work: p.work,
      household_id: householdIds[p.householdKey],
      relation_to_head: p.relation,
      grid_code: p.gridCode,
      region_path: pathOf.get(p.gridCode),
    };
  });
  const organisationRows = registry.organisations.map((o, index) => {
    const phone = sealPhone(secrets, o.safetyPhone);
    return {
      id: organisationIds[index],
      name: o.name,
      kind: o.kind,
      licence_no: o.licenceNo,
      safety_name: o.safetyName,
      safety_phone_cipher: phone.cipher,
      safety_phone_key_id: phone.keyId,
      safety_phone_hash: phone.hash,
      safety_phone_masked: phone.masked,
      address_id: addressIds[o.addressKey],
      building_id: buildingId(o.buildingKey),
      lng: o.location[0],
      lat: o.location[1],
      grid_code: o.gridCode,
      region_path: pathOf.get(o.gridCode),
    };
  });
  const sealMs = Date.now() - sealStarted;

  await insertChunks(ex, personRows, (payload) =>
    ex.execute(sql`insert into person (id, name, gender, birth_date, id_type, id_cipher, id_key_id, id_hash, id_masked,
        phone_cipher, phone_key_id, phone_hash, phone_masked, ethnicity, registered_residence, current_address, work,
        household_id, relation_to_head, grid_code, region_path, created_at, updated_at)
      select r.id, r.name, r.gender, r.birth_date, 'resident_id', r.id_cipher, r.id_key_id, r.id_hash, r.id_masked,
             r.phone_cipher, r.phone_key_id, r.phone_hash, r.phone_masked, r.ethnicity, r.registered_residence,
             r.current_address, r.work, r.household_id, r.relation_to_head, r.grid_code, r.region_path,
             ${now}::timestamptz, ${now}::timestamptz
      from json_to_recordset(${payload}::json)
        as r(id bigint, name text, gender text, birth_date date, id_cipher text, id_key_id text, id_hash text,
             id_masked text, phone_cipher text, phone_key_id text, phone_hash text, phone_masked text, ethnicity text,
             registered_residence text, current_address text, work text, household_id bigint, relation_to_head text,
             grid_code text, region_path text)`),
  );
  const tagRows = registry.persons.flatMap((p, index) =>
    p.tags.map((t) => ({
      person_id: personIds[index],
      kind: t.kind,
      specialty: personTagSpecialty[t.kind],
      fields: t.fields,
      region_path: pathOf.get(p.gridCode),
    })),
  );
  await insertChunks(ex, tagRows, (payload) =>
    ex.execute(sql`insert into person_tag (person_id, kind, specialty, fields, region_path, created_at)
      select r.person_id, r.kind, r.specialty, r.fields, r.region_path, ${now}::timestamptz
      from json_to_recordset(${payload}::json)
        as r(person_id bigint, kind text, specialty text, fields jsonb, region_path text)`),
  );
  await insertChunks(ex, organisationRows, (payload) =>
    ex.execute(sql`insert into organisation (id, name, kind, licence_no, safety_name, safety_phone_cipher,
        safety_phone_key_id, safety_phone_hash, safety_phone_masked, address_id, building_id, location, grid_code,
        region_path, created_at, updated_at)
      select r.id, r.name, r.kind, r.licence_no, r.safety_name, r.safety_phone_cipher, r.safety_phone_key_id,
             r.safety_phone_hash, r.safety_phone_masked, r.address_id, r.building_id,
             ST_SetSRID(ST_MakePoint(r.lng, r.lat), 4326), r.grid_code, r.region_path, ${now}::timestamptz,
             ${now}::timestamptz
      from json_to_recordset(${payload}::json)
        as r(id bigint, name text, kind text, licence_no text, safety_name text, safety_phone_cipher text,
             safety_phone_key_id text, safety_phone_hash text, safety_phone_masked text, address_id bigint,
             building_id bigint, lng float8, lat float8, grid_code text, region_path text)`),
  );
  const placesStarted = Date.now();
  await insertChunks(
    ex,
    registry.inspections.map((i) => ({
      organisation_id: organisationIds[i.organisationKey],
      client_id: i.clientId,
      inspected_at: i.inspectedAt,
      result: i.result,
      findings: i.findings,
      hazards: i.hazards,
      rectify_by: i.rectifyBy,
      inspector: `gw-${i.gridCode}`,
      region_path: pathOf.get(i.gridCode),
    })),
    (payload) =>
      ex.execute(sql`insert into organisation_inspection (organisation_id, client_id, inspected_at, result, findings,
          hazards, rectify_by, inspector_id, region_path, created_at)
        select r.organisation_id, r.client_id, r.inspected_at, r.result, r.findings, r.hazards, r.rectify_by, u.id,
               r.region_path, r.inspected_at
        from json_to_recordset(${payload}::json)
          as r(organisation_id bigint, client_id uuid, inspected_at timestamptz, result text, findings text,
               hazards jsonb, rectify_by date, inspector text, region_path text)
        left join app_user u on u.username = r.inspector`),
  );
  const departmentId = (code: string | null) =>
    code === null ? null : (options.departments?.get(code) ?? null);
  await insertChunks(
    ex,
    registry.components.map((c) => ({
      code: c.code,
      major_class: c.minorClass.slice(0, 2),
      minor_class: c.minorClass,
      name: c.name,
      owner: departmentId(c.ownerDepartment),
      maintainer: departmentId(c.maintainerDepartment),
      state: c.state,
      lng: c.location[0],
      lat: c.location[1],
      grid_code: c.gridCode,
      region_path: pathOf.get(c.gridCode),
    })),
    (payload) =>
      ex.execute(sql`insert into public_component (code, major_class, minor_class, name, owner_department_id,
          maintainer_department_id, state, location, grid_code, region_path, created_at, updated_at)
        select r.code, r.major_class, r.minor_class, r.name, r.owner, r.maintainer, r.state,
               ST_SetSRID(ST_MakePoint(r.lng, r.lat), 4326), r.grid_code, r.region_path, ${now}::timestamptz,
               ${now}::timestamptz
        from json_to_recordset(${payload}::json)
          as r(code text, major_class text, minor_class text, name text, owner bigint, maintainer bigint, state text,
               lng float8, lat float8, grid_code text, region_path text)`),
  );
  return {
    buildings: registry.buildings.length,
    addresses: registry.addresses.length,
    households: registry.households.length,
    persons: registry.persons.length,
    personTags: tagRows.length,
    organisations: registry.organisations.length,
    inspections: registry.inspections.length,
    components: registry.components.length,
    sealMs,
    placesMs: Date.now() - placesStarted,
  };
}
