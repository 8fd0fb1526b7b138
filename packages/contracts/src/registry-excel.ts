import { z } from 'zod';
import { RegionCodeSchema } from './common.ts';
import type {
  genderValues,
  householdKindValues,
  idTypeValues,
  personStatusValues,
  relationToHeadValues,
  PersonTagKind,
} from './registry.ts';

/**
 * The registry's Excel in and out (Excel 导入导出): templates to download, imports that check every row and answer
 * with the rows in error (and the same workbook with an error column), exports that stream, masked unless revealed
 * with a reason. Column headers and the labels of enumerated values are Chinese, as grid offices fill them.
 */

export const registryExcelKindValues = ['persons', 'households', 'organisations'] as const;
export type RegistryExcelKind = (typeof registryExcelKindValues)[number];

/** all_or_nothing: any bad row and nothing is stored. valid_rows: the good rows are stored, the bad ones listed. */
export const importModeValues = ['all_or_nothing', 'valid_rows'] as const;
export type ImportMode = (typeof importModeValues)[number];

export const importStatusValues = ['imported', 'partially_imported', 'rejected'] as const;
export type ImportStatus = (typeof importStatusValues)[number];

/** Organisations and places (实有单位): the kinds of the organisation table. */
export const organisationKindValues = [
  'shop',
  'firm',
  'school',
  'clinic',
  'rental_house',
  'internet_cafe',
  'hazardous_goods',
  'restaurant',
  'hotel',
  'public_venue',
  'other',
] as const;
export type OrganisationKind = (typeof organisationKindValues)[number];

/* ---------------------------------------------------------------- Chinese labels of enumerated values */

export const genderLabels: Record<(typeof genderValues)[number], string> = {
  male: '男',
  female: '女',
  unknown: '未知',
};

export const idTypeLabels: Record<(typeof idTypeValues)[number], string> = {
  resident_id: '居民身份证',
  passport: '护照',
  hk_macao_permit: '港澳居民来往内地通行证',
  taiwan_permit: '台湾居民来往大陆通行证',
  foreign_permanent: '外国人永久居留身份证',
  other: '其他',
};

/** 户类型: 户籍 (registered), 流动 (floating), 出租 (rental). */
export const householdKindLabels: Record<(typeof householdKindValues)[number], string> = {
  registered: '户籍',
  floating: '流动',
  rental: '出租',
};

/** 与户主关系. */
export const relationToHeadLabels: Record<(typeof relationToHeadValues)[number], string> = {
  head: '户主',
  spouse: '配偶',
  child: '子女',
  parent: '父母',
  grandchild: '孙子女',
  grandparent: '祖父母',
  sibling: '兄弟姐妹',
  child_in_law: '儿媳女婿',
  tenant: '租客',
  other: '其他',
};

export const personStatusLabels: Record<(typeof personStatusValues)[number], string> = {
  active: '在册',
  moved_out: '迁出',
  deceased: '死亡',
};

/** Key-population tags (重点人群) by their Chinese names. */
export const personTagLabels: Record<PersonTagKind, string> = {
  elderly_alone: '独居老人',
  empty_nest: '空巢老人',
  disabled: '残疾人',
  low_income: '低保',
  left_behind_child: '留守儿童',
  corrections: '社区矫正',
  released_prisoner: '刑满释放',
  drug_rehab: '吸毒人员',
  petitioner_key: '重点信访人员',
  mental_illness_severe: '严重精神障碍',
  pregnant: '孕产妇',
};

/** 单位类型. */
export const organisationKindLabels: Record<OrganisationKind, string> = {
  shop: '商铺',
  firm: '企业',
  school: '学校',
  clinic: '医疗机构',
  rental_house: '出租屋',
  internet_cafe: '网吧',
  hazardous_goods: '危化品场所',
  restaurant: '餐饮',
  hotel: '旅馆',
  public_venue: '公共场所',
  other: '其他',
};

/* ---------------------------------------------------------------- columns of the templates */

export interface RegistryExcelColumn {
  /** The field the column fills (also the `field` of a row error). */
  field: string;
  /** The header text, as it stands in row 1 of the data sheet (without the `*` of required columns). */
  header: string;
  required: boolean;
  /** What to write: shown as the header's note and on the instructions sheet. */
  format: string;
  /** Enumerated columns: the labels offered in the cell's drop-down list. */
  options?: readonly string[];
  width: number;
}

const gridColumn: RegistryExcelColumn = {
  field: 'gridCode',
  header: '网格编码',
  required: true,
  format: '15 位网格代码,须在您的管辖范围内 (15-digit grid code in your scope)',
  width: 18,
};
const buildingColumn = (required: boolean): RegistryExcelColumn => ({
  field: 'building',
  header: '楼栋',
  required,
  format: '该网格内已登记的楼栋名称,如 3号楼 (name of a building registered in that grid)',
  width: 12,
});
const unitColumn: RegistryExcelColumn = {
  field: 'unit',
  header: '单元',
  required: false,
  format: '单元号,如 2 (unit), 最多 20 字',
  width: 8,
};
const roomColumn: RegistryExcelColumn = {
  field: 'room',
  header: '房号',
  required: false,
  format: '房号,如 301 (room), 最多 20 字',
  width: 8,
};

export const personExcelColumns: readonly RegistryExcelColumn[] = [
  { field: 'name', header: '姓名', required: true, format: '最多 50 字 (up to 50 characters)', width: 10 },
  {
    field: 'gender',
    header: '性别',
    required: true,
    format: '男 / 女 / 未知',
    options: Object.values(genderLabels),
    width: 8,
  },
  {
    field: 'idType',
    header: '证件类型',
    required: false,
    format: '不填为居民身份证 (resident ID when empty)',
    options: Object.values(idTypeLabels),
    width: 14,
  },
  {
    field: 'idNumber',
    header: '证件号码',
    required: true,
    format: '居民身份证 18 位,校验位须正确;请设为文本格式 (18 characters with a valid check digit; as text)',
    width: 22,
  },
  {
    field: 'birthDate',
    header: '出生日期',
    required: false,
    format: 'YYYY-MM-DD;居民身份证可不填,按证件号码 (taken from the ID number when empty)',
    width: 12,
  },
  {
    field: 'phone',
    header: '联系电话',
    required: false,
    format: '11 位手机号或带区号的固定电话,如 0454-8234567 (mobile or landline with area code)',
    width: 14,
  },
  { field: 'ethnicity', header: '民族', required: false, format: '如 汉族 (up to 20 characters)', width: 8 },
  {
    field: 'registeredResidence',
    header: '户籍地',
    required: false,
    format: '最多 200 字 (registered residence)',
    width: 24,
  },
  {
    field: 'currentAddress',
    header: '现住址',
    required: false,
    format: '最多 200 字 (current address)',
    width: 24,
  },
  { field: 'work', header: '工作单位', required: false, format: '最多 200 字 (work)', width: 18 },
  gridColumn,
  buildingColumn(false),
  unitColumn,
  roomColumn,
  {
    field: 'householdKind',
    header: '户类型',
    required: false,
    format:
      '户籍 / 流动 / 出租;该房屋尚无在册户时按此新建,不填为户籍 (kind of a new household; default 户籍)',
    options: Object.values(householdKindLabels),
    width: 8,
  },
  {
    field: 'relationToHead',
    header: '与户主关系',
    required: false,
    format: '填写楼栋时可填:户主 / 配偶 / 子女 / 父母 … (relation to the head of the household)',
    options: Object.values(relationToHeadLabels),
    width: 10,
  },
  {
    field: 'tags',
    header: '重点人群',
    required: false,
    format: `可多个,用顿号分隔,如 独居老人、残疾人;可选:${Object.values(personTagLabels).join('、')} (key-population tags)`,
    width: 16,
  },
];

export const householdExcelColumns: readonly RegistryExcelColumn[] = [
  gridColumn,
  buildingColumn(true),
  unitColumn,
  roomColumn,
  {
    field: 'householdKind',
    header: '户类型',
    required: true,
    format: '户籍 / 流动 / 出租',
    options: Object.values(householdKindLabels),
    width: 8,
  },
];

export const organisationExcelColumns: readonly RegistryExcelColumn[] = [
  {
    field: 'name',
    header: '单位名称',
    required: true,
    format: '最多 100 字 (up to 100 characters)',
    width: 24,
  },
  {
    field: 'organisationKind',
    header: '单位类型',
    required: true,
    format: Object.values(organisationKindLabels).join(' / '),
    options: Object.values(organisationKindLabels),
    width: 12,
  },
  gridColumn,
  buildingColumn(false),
  {
    field: 'licenceNo',
    header: '证照编号',
    required: false,
    format: '营业执照或许可证编号,最多 50 字 (licence number)',
    width: 20,
  },
  {
    field: 'safetyName',
    header: '安全负责人',
    required: false,
    format: '最多 50 字 (safety-responsible person)',
    width: 10,
  },
  {
    field: 'safetyPhone',
    header: '安全负责人电话',
    required: false,
    format: '11 位手机号或带区号的固定电话 (mobile or landline with area code)',
    width: 16,
  },
];

export const registryExcelColumns: Record<RegistryExcelKind, readonly RegistryExcelColumn[]> = {
  persons: personExcelColumns,
  households: householdExcelColumns,
  organisations: organisationExcelColumns,
};

/** Names of the data sheet of each kind (the sheet an import reads; else the first sheet). */
export const registryExcelSheetNames: Record<RegistryExcelKind, string> = {
  persons: '实有人口',
  households: '户',
  organisations: '实有单位',
};

/** The second sheet of every template: instructions and two example rows. */
export const registryExcelInstructionsSheet = '填写说明';

/** The column the error workbook adds after the last column. */
export const registryExcelErrorHeader = '错误说明';

/** Largest upload accepted (bytes). */
export const registryImportMaxBytes = 20 * 1024 * 1024;

/* ---------------------------------------------------------------- requests and answers */

export const RegistryExcelKindParamsSchema = z.object({ kind: z.enum(registryExcelKindValues) });

export const ImportQuerySchema = z.object({
  kind: z.enum(registryExcelKindValues),
  mode: z.enum(importModeValues).default('all_or_nothing'),
  /** Makes the upload idempotent: the same client id from the same user answers the first result (200). */
  clientId: z.uuid(),
});
export type ImportQuery = z.infer<typeof ImportQuerySchema>;

export const ImportRowErrorSchema = z.object({
  /** Excel row number (the header is row 1). */
  row: z.number().int(),
  /** Header text of the column in error; empty for a problem of the whole row. */
  column: z.string(),
  field: z.string(),
  message: z.string(),
});
export type ImportRowError = z.infer<typeof ImportRowErrorSchema>;

export const ImportResultSchema = z.object({
  id: z.number().int(),
  kind: z.enum(registryExcelKindValues),
  mode: z.enum(importModeValues),
  status: z.enum(importStatusValues),
  totalRows: z.number().int(),
  importedRows: z.number().int(),
  rejectedRows: z.number().int(),
  /** The first 1000 problems, in row order. */
  errors: z.array(ImportRowErrorSchema),
  /** All problems (errors holds at most 1000). */
  errorCount: z.number().int(),
  /** The uploaded workbook with an error column and the bad cells in red; null when there are no errors. */
  errorWorkbookUrl: z.string().nullable(),
  createdAt: z.string(),
  createdBy: z.object({ id: z.number().int(), displayName: z.string() }),
});
export type ImportResult = z.infer<typeof ImportResultSchema>;

export const ImportListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export type ImportListQuery = z.infer<typeof ImportListQuerySchema>;

export const ImportListSchema = z.object({ items: z.array(ImportResultSchema) });
export type ImportList = z.infer<typeof ImportListSchema>;

export const ExportQuerySchema = z.object({
  /** The region whose subtree is exported (`person.read` there). */
  region: RegionCodeSchema,
  /** 1: full ID numbers and phones (`person.reveal` and a reason of at least 4 characters; audited). */
  reveal: z.enum(['0', '1']).default('0'),
  reason: z.string().trim().max(500).optional(),
});
export type ExportQuery = z.infer<typeof ExportQuerySchema>;
