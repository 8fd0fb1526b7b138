export { registerTaxonomyRoutes } from './taxonomy.routes.ts';
export { ensureDefaultTaxonomy } from './taxonomy.seed.ts';
export {
  getItem,
  limitsFor,
  resolveDepartment,
  validateExtraFields,
  type CategoryItem,
  type ExtraField,
  type StageLimits,
} from './taxonomy.service.ts';
