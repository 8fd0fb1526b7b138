import { z } from 'zod';
import { PageQuerySchema, RegionCodeSchema } from './common.ts';
import { BuildingSchema } from './registry.ts';
import { organisationKindValues, type OrganisationKind } from './registry-excel.ts';

/**
 * Places of the registry 一标三实: standard addresses (标准地址), organisations and places (实有单位) with their
 * inspections (检查), public components (部件, after GB/T 30428). The safety-responsible person's phone is
 * masked in every answer (`138****5678`); the full value only through reveal (`person.reveal`, with a reason).
 */

const text = (max: number) => z.string().trim().min(1).max(max);
const DateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, '日期格式 YYYY-MM-DD (date YYYY-MM-DD)');
export const PointSchema = z.object({
  lng: z.number().min(-180).max(180),
  lat: z.number().min(-90).max(90),
});
export type Point = z.infer<typeof PointSchema>;

/* ---------------------------------------------------------------- standard addresses (标准地址) */

/**
 * A standard address: road, road number, building (an id of a building in the same grid, or a name), unit,
 * floor, room; an optional point inside the grid. One standard address per grid (409 for a duplicate).
 */
export const CreateAddressRequestSchema = z.object({
  gridCode: RegionCodeSchema,
  road: text(60),
  roadNumber: text(20).optional(),
  buildingId: z.number().int().positive().optional(),
  buildingName: text(60).optional(),
  unit: text(20).optional(),
  floor: text(10).optional(),
  room: text(20).optional(),
  location: PointSchema.optional(),
});
export type CreateAddressRequest = z.infer<typeof CreateAddressRequestSchema>;

export const AddressSchema = z.object({
  id: z.number().int(),
  gridCode: z.string(),
  road: z.string(),
  roadNumber: z.string().nullable(),
  buildingId: z.number().int().nullable(),
  buildingName: z.string().nullable(),
  unit: z.string().nullable(),
  floor: z.string().nullable(),
  room: z.string().nullable(),
  location: PointSchema.nullable(),
  /** One line, e.g. `胜利路 12号 3号楼 2单元 501室`. */
  label: z.string(),
});
export type Address = z.infer<typeof AddressSchema>;

export const AddressListQuerySchema = PageQuerySchema.extend({
  grid: RegionCodeSchema.optional(),
  /** Text anywhere in road, road number, building, unit or room. */
  q: z.string().trim().min(1).max(60).optional(),
});
export type AddressListQuery = z.infer<typeof AddressListQuerySchema>;

export const AddressListSchema = z.object({
  items: z.array(AddressSchema),
  nextCursor: z.string().nullable(),
});
export type AddressList = z.infer<typeof AddressListSchema>;

/* ---------------------------------------------------------------- building detail (提楼知户) */

export const BuildingUnitSchema = z.object({
  /** Null for homes without a unit (bungalows). */
  unit: z.string().nullable(),
  /** Active households of the unit and their active people. */
  households: z.number().int(),
  people: z.number().int(),
});
export type BuildingUnit = z.infer<typeof BuildingUnitSchema>;

/** A building with its units (from its active households): building → units → households → people. */
export const BuildingDetailSchema = BuildingSchema.extend({
  gridName: z.string(),
  people: z.number().int(),
  units: z.array(BuildingUnitSchema),
});
export type BuildingDetail = z.infer<typeof BuildingDetailSchema>;

/* ---------------------------------------------------------------- organisations and places (实有单位) */

// The kinds (shop 商铺, firm 企业, school 学校, clinic 诊所, rental_house 出租屋, internet_cafe 网吧,
// hazardous_goods 危险化学品场所, restaurant 餐饮, hotel 宾馆, public_venue 公共场所, other) are shared with the
// Excel import: `organisationKindValues` in registry-excel.ts.
export const organisationStatusValues = ['active', 'closed'] as const;

/**
 * How often a place is inspected (检查周期), in months, by kind: hazardous-goods sites and internet cafés
 * monthly, restaurants, hotels and rental houses quarterly, every other kind yearly. The next inspection is due
 * this many months after the last one; a place never inspected is due from its registration.
 */
export const inspectionIntervalMonths = {
  hazardous_goods: 1,
  internet_cafe: 1,
  restaurant: 3,
  hotel: 3,
  rental_house: 3,
  shop: 12,
  firm: 12,
  school: 12,
  clinic: 12,
  public_venue: 12,
  other: 12,
} as const satisfies Record<OrganisationKind, number>;

export const inspectionResultValues = ['passed', 'rectify', 'failed'] as const;

export const CreateOrganisationRequestSchema = z.object({
  gridCode: RegionCodeSchema,
  name: text(100),
  kind: z.enum(organisationKindValues),
  /** 统一社会信用代码 or licence number. */
  licenceNo: text(40).optional(),
  /** The safety-responsible person (安全责任人) and their phone (sealed, masked in answers). */
  safetyName: text(50).optional(),
  safetyPhone: z.string().trim().min(5).max(30).optional(),
  /** A standard address, a building and a point, all in the same grid. */
  addressId: z.number().int().positive().optional(),
  buildingId: z.number().int().positive().optional(),
  location: PointSchema.optional(),
  status: z.enum(organisationStatusValues).default('active'),
});
export type CreateOrganisationRequest = z.infer<typeof CreateOrganisationRequestSchema>;

/**
 * A change to an organisation: only the fields present change; `null` clears. `expectedVersion` is the version
 * read; a stale one is 409.
 */
export const UpdateOrganisationRequestSchema = z
  .object({
    expectedVersion: z.number().int().positive(),
    name: text(100).optional(),
    kind: z.enum(organisationKindValues).optional(),
    licenceNo: text(40).nullable().optional(),
    safetyName: text(50).nullable().optional(),
    safetyPhone: z.string().trim().min(5).max(30).nullable().optional(),
    addressId: z.number().int().positive().nullable().optional(),
    buildingId: z.number().int().positive().nullable().optional(),
    location: PointSchema.nullable().optional(),
    status: z.enum(organisationStatusValues).optional(),
  })
  .strict();
export type UpdateOrganisationRequest = z.infer<typeof UpdateOrganisationRequestSchema>;

export const InspectionSchema = z.object({
  id: z.number().int(),
  organisationId: z.number().int(),
  clientId: z.string(),
  inspectedAt: z.string(),
  result: z.enum(inspectionResultValues),
  findings: z.string(),
  hazards: z.array(z.string()),
  rectifyBy: z.string().nullable(),
  inspectorId: z.number().int().nullable(),
  createdAt: z.string(),
});
export type Inspection = z.infer<typeof InspectionSchema>;

/** An inspection (检查): the same `clientId` again returns the first one (200 instead of 201). */
export const CreateInspectionRequestSchema = z
  .object({
    clientId: z.uuid(),
    inspectedAt: z.iso.datetime({ offset: true }),
    result: z.enum(inspectionResultValues),
    findings: z.string().trim().max(2000).default(''),
    /** Hazards found (隐患), short phrases. */
    hazards: z.array(text(100)).max(50).default([]),
    /** The deadline to put things right (整改期限); required when the result is `rectify`. */
    rectifyBy: DateSchema.optional(),
  })
  .superRefine((value, context) => {
    if (value.result === 'rectify' && value.rectifyBy === undefined)
      context.addIssue({
        code: 'custom',
        path: ['rectifyBy'],
        message: '整改须有期限 (a rectify result needs a deadline)',
      });
  });
export type CreateInspectionRequest = z.infer<typeof CreateInspectionRequestSchema>;

export const InspectionListSchema = z.object({ items: z.array(InspectionSchema) });
export type InspectionList = z.infer<typeof InspectionListSchema>;

export const OrganisationSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  kind: z.enum(organisationKindValues),
  licenceNo: z.string().nullable(),
  safetyName: z.string().nullable(),
  safetyPhoneMasked: z.string().nullable(),
  addressId: z.number().int().nullable(),
  addressLabel: z.string().nullable(),
  buildingId: z.number().int().nullable(),
  location: PointSchema.nullable(),
  status: z.enum(organisationStatusValues),
  gridCode: z.string(),
  lastInspection: InspectionSchema.nullable(),
  /** Months between inspections for this kind (see `inspectionIntervalMonths`). */
  inspectionIntervalMonths: z.number().int(),
  /** When the next inspection is due; null for a closed place. */
  nextInspectionDue: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Bumped by every change; send it back as `expectedVersion` when patching. */
  version: z.number().int(),
});
export type Organisation = z.infer<typeof OrganisationSchema>;

export const OrganisationListQuerySchema = PageQuerySchema.extend({
  /** A grid, or any region (its whole subtree). */
  grid: RegionCodeSchema.optional(),
  region: RegionCodeSchema.optional(),
  kind: z.enum(organisationKindValues).optional(),
  status: z.enum(organisationStatusValues).optional(),
  /** Text in the name, or a licence number prefix. */
  q: z.string().trim().min(1).max(60).optional(),
  /** `overdue`: active places whose next inspection is due before now. */
  inspection: z.enum(['overdue']).optional(),
});
export type OrganisationListQuery = z.infer<typeof OrganisationListQuerySchema>;

export const OrganisationListSchema = z.object({
  items: z.array(OrganisationSchema),
  nextCursor: z.string().nullable(),
});
export type OrganisationList = z.infer<typeof OrganisationListSchema>;

export const OrganisationRevealRequestSchema = z.object({
  field: z.enum(['safetyPhone']),
  reason: z.string().trim().min(4).max(500),
});
export type OrganisationRevealRequest = z.infer<typeof OrganisationRevealRequestSchema>;

export const OrganisationRevealResponseSchema = z.object({
  field: z.enum(['safetyPhone']),
  /** Null when there is no such value. */
  value: z.string().nullable(),
});
export type OrganisationRevealResponse = z.infer<typeof OrganisationRevealResponseSchema>;

/* ---------------------------------------------------------------- public components (部件) */

/** Major classes (大类) of city components, after GB/T 30428. */
export const componentMajorClasses = {
  '01': '公用设施', // public utilities
  '02': '道路交通', // roads and traffic
  '03': '市容环境', // city appearance and sanitation
  '04': '园林绿化', // parks and greenery
  '05': '房屋土地', // buildings and land
  '06': '其他设施', // other facilities
} as const;
export type ComponentMajorClass = keyof typeof componentMajorClasses;

/** Minor classes (小类): the first two digits are the major class. */
export const componentMinorClasses = {
  '0101': { zh: '上水井盖', en: 'Water supply manhole cover' },
  '0102': { zh: '污水井盖', en: 'Sewage manhole cover' },
  '0103': { zh: '雨水井盖', en: 'Storm drain manhole cover' },
  '0104': { zh: '电力井盖', en: 'Power manhole cover' },
  '0105': { zh: '通信井盖', en: 'Telecom manhole cover' },
  '0106': { zh: '燃气井盖', en: 'Gas manhole cover' },
  '0107': { zh: '消防栓', en: 'Fire hydrant' },
  '0108': { zh: '配电箱', en: 'Power distribution box' },
  '0201': { zh: '路灯', en: 'Street light' },
  '0202': { zh: '交通标志牌', en: 'Traffic sign' },
  '0203': { zh: '交通信号灯', en: 'Traffic light' },
  '0204': { zh: '道路护栏', en: 'Road guardrail' },
  '0205': { zh: '公交站亭', en: 'Bus shelter' },
  '0301': { zh: '公共厕所', en: 'Public toilet' },
  '0302': { zh: '垃圾箱', en: 'Litter bin' },
  '0303': { zh: '垃圾收集点', en: 'Refuse collection point' },
  '0401': { zh: '行道树', en: 'Street tree' },
  '0402': { zh: '花坛', en: 'Flower bed' },
  '0501': { zh: '广告牌', en: 'Billboard' },
  '0502': { zh: '宣传栏', en: 'Notice board' },
  '0601': { zh: '视频监控', en: 'Surveillance camera' },
  '0602': { zh: '健身设施', en: 'Fitness equipment' },
} as const satisfies Record<string, { zh: string; en: string }>;
export type ComponentMinorClass = keyof typeof componentMinorClasses;
export const componentMinorClassValues = Object.keys(componentMinorClasses) as [
  ComponentMinorClass,
  ...ComponentMinorClass[],
];
export const componentMajorClassValues = Object.keys(componentMajorClasses) as [
  ComponentMajorClass,
  ...ComponentMajorClass[],
];

export const componentStateValues = [
  'intact', // 完好
  'damaged', // 破损
  'lost', // 丢失
  'removed', // 移除
] as const;

/** `<community code, 12 digits>-<minor class>-<serial, 6 digits>`, e.g. `230803001001-0101-000123`. */
export const ComponentCodeSchema = z
  .string()
  .regex(/^\d{12}-\d{4}-\d{6}$/, '部件编码为 12 位社区代码-4 位小类-6 位流水号 (community-class-serial)');

export const CreateComponentRequestSchema = z.object({
  gridCode: RegionCodeSchema,
  minorClass: z.enum(componentMinorClassValues, { message: '未知的部件小类 (unknown minor class)' }),
  /** Given by an existing survey; otherwise assigned (the next serial of the community and class). */
  code: ComponentCodeSchema.optional(),
  /** The class name when absent. */
  name: text(60).optional(),
  ownerDepartmentId: z.number().int().positive().optional(),
  maintainerDepartmentId: z.number().int().positive().optional(),
  state: z.enum(componentStateValues).default('intact'),
  /** Required, inside the grid. */
  location: PointSchema,
});
export type CreateComponentRequest = z.infer<typeof CreateComponentRequestSchema>;

export const UpdateComponentRequestSchema = z
  .object({
    expectedVersion: z.number().int().positive(),
    name: text(60).optional(),
    state: z.enum(componentStateValues).optional(),
    ownerDepartmentId: z.number().int().positive().nullable().optional(),
    maintainerDepartmentId: z.number().int().positive().nullable().optional(),
  })
  .strict();
export type UpdateComponentRequest = z.infer<typeof UpdateComponentRequestSchema>;

const DepartmentRefSchema = z.object({ id: z.number().int(), name: z.string() });

export const ComponentSchema = z.object({
  id: z.number().int(),
  code: z.string(),
  majorClass: z.enum(componentMajorClassValues),
  majorClassName: z.string(),
  minorClass: z.enum(componentMinorClassValues),
  minorClassName: z.string(),
  name: z.string(),
  ownerDepartment: DepartmentRefSchema.nullable(),
  maintainerDepartment: DepartmentRefSchema.nullable(),
  state: z.enum(componentStateValues),
  location: PointSchema,
  gridCode: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: z.number().int(),
});
export type Component = z.infer<typeof ComponentSchema>;

export const ComponentListQuerySchema = PageQuerySchema.extend({
  grid: RegionCodeSchema.optional(),
  region: RegionCodeSchema.optional(),
  /** A major class (`01`) or a minor class (`0101`). */
  class: z
    .string()
    .regex(/^0[1-6](\d{2})?$/, '大类 2 位或小类 4 位 (a 2-digit major or 4-digit minor class)')
    .optional(),
  state: z.enum(componentStateValues).optional(),
});
export type ComponentListQuery = z.infer<typeof ComponentListQuerySchema>;

export const ComponentListSchema = z.object({
  items: z.array(ComponentSchema),
  nextCursor: z.string().nullable(),
});
export type ComponentList = z.infer<typeof ComponentListSchema>;
