import { z } from 'zod';
import { RegionCodeSchema } from './common.ts';

/** 市 → 区/县 → 街道/乡镇 → 社区/村 → 网格 → 微网格 */
export const regionLevelValues = ['city', 'district', 'street', 'community', 'grid', 'microgrid'] as const;
export const RegionLevelSchema = z.enum(regionLevelValues);
export type RegionLevelValue = z.infer<typeof RegionLevelSchema>;

/** Limits for region writes and GeoJSON import. */
export const regionLimits = {
  /** Request body cap for `POST /api/regions/import`, in bytes. */
  importBodyBytes: 20 * 1024 * 1024,
  importMaxFeatures: 50_000,
  nameMaxLength: 100,
} as const;

/** A GeoJSON position; WGS-84 [lng, lat] (an optional altitude is dropped). Ranges are checked by the server. */
const PositionSchema = z.array(z.number()).min(2).max(3);

export const GeoJsonPolygonSchema = z.object({
  type: z.literal('Polygon'),
  coordinates: z.array(z.array(PositionSchema)),
});
export const GeoJsonMultiPolygonSchema = z.object({
  type: z.literal('MultiPolygon'),
  coordinates: z.array(z.array(z.array(PositionSchema))),
});
/** A boundary: GeoJSON Polygon or MultiPolygon in WGS-84 longitude/latitude (not GCJ-02). */
export const AreaGeometrySchema = z.discriminatedUnion('type', [
  GeoJsonPolygonSchema,
  GeoJsonMultiPolygonSchema,
]);
export type AreaGeometryValue = z.infer<typeof AreaGeometrySchema>;

const RegionNameSchema = z.string().trim().min(1, '请输入名称 (required)').max(regionLimits.nameMaxLength);

export const CreateRegionRequestSchema = z.object({
  code: RegionCodeSchema,
  level: RegionLevelSchema,
  name: RegionNameSchema,
  /** Parent region code; omitted or null only for a city. */
  parent: RegionCodeSchema.nullish(),
  boundary: AreaGeometrySchema,
  /** When the boundary takes effect; defaults to now. */
  validFrom: z.iso.datetime({ offset: true }).optional(),
});
export type CreateRegionRequest = z.infer<typeof CreateRegionRequestSchema>;

/** Re-gridding (重新划分网格): the current boundary closes at `validFrom`, the new one opens then. */
export const ReplaceBoundaryRequestSchema = z.object({
  boundary: AreaGeometrySchema,
  validFrom: z.iso.datetime({ offset: true }).optional(),
});
export type ReplaceBoundaryRequest = z.infer<typeof ReplaceBoundaryRequestSchema>;

export const RenameRegionRequestSchema = z.object({ name: RegionNameSchema });
export type RenameRegionRequest = z.infer<typeof RenameRegionRequestSchema>;

export const RegionWrittenSchema = z.object({
  code: z.string(),
  level: RegionLevelSchema,
  name: z.string(),
  parent: z.string().nullable(),
  path: z.string(),
  /** Start of the current boundary version (ISO time), null when the region has no boundary. */
  validFrom: z.string().nullable(),
});
export type RegionWritten = z.infer<typeof RegionWrittenSchema>;

/** Properties of one feature in an import or export file. */
export const RegionFeaturePropertiesSchema = z.object({
  code: RegionCodeSchema,
  name: RegionNameSchema,
  level: RegionLevelSchema,
  parent: RegionCodeSchema.nullish(),
});

export const RegionFeatureSchema = z.object({
  type: z.literal('Feature'),
  properties: RegionFeaturePropertiesSchema,
  geometry: AreaGeometrySchema,
});
export type RegionFeature = z.infer<typeof RegionFeatureSchema>;

/**
 * The import body. Features are only checked as far as "a list" here, so that the server can answer one error per
 * bad feature (with its index) instead of one schema error for the whole file.
 */
export const ImportRegionsRequestSchema = z.object({
  type: z.literal('FeatureCollection'),
  features: z.array(z.unknown()).min(1, '文件中没有要素 (no features)').max(regionLimits.importMaxFeatures),
});
export type ImportRegionsRequest = z.infer<typeof ImportRegionsRequestSchema>;

export const ImportRegionsResponseSchema = z.object({
  /** New regions. */
  created: z.number().int(),
  /** Existing regions given a new boundary version (re-gridding) or a new name. */
  updated: z.number().int(),
  /** Existing regions whose boundary and name were already as in the file. */
  unchanged: z.number().int(),
});
export type ImportRegionsResponse = z.infer<typeof ImportRegionsResponseSchema>;

/** One entry of `details.errors` in a REGION_IMPORT_FAILED answer: one per bad feature. */
export const RegionImportErrorSchema = z.object({
  /** Position of the feature in the file's `features` (0-based). */
  index: z.number().int(),
  /** The feature's region code and name, when it has them. */
  code: z.string().nullable(),
  name: z.string().nullable(),
  /** Error code (REGION_INVALID_GEOMETRY, REGION_OUTSIDE_PARENT, REGION_OVERLAP, REGION_INVALID_CODE, …). */
  error: z.string(),
  reason: z.string(),
});
export type RegionImportError = z.infer<typeof RegionImportErrorSchema>;
