/** Stable error codes. One exhaustive table maps each to its HTTP status. */
export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'AUTH_INVALID_CREDENTIALS'
  | 'AUTH_LOCKED'
  | 'REGION_INVALID_CODE'
  | 'REGION_INVALID_GEOMETRY'
  | 'REGION_OUTSIDE_PARENT'
  | 'REGION_OVERLAP'
  | 'REGION_IMPORT_FAILED'
  | 'GRID_NOT_FOUND'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'DATABASE_UNAVAILABLE'
  | 'INTERNAL'
  // case intake
  | 'CASE_OUTSIDE_GRIDS'
  | 'CASE_CHANNEL_NOT_ALLOWED'
  | 'CASE_INVALID_CATEGORY'
  | 'CASE_PHOTO_INVALID'
  | 'CASE_PHOTO_QUOTA'
  | 'CASE_INVALID_TRANSITION'
  | 'CASE_VERSION_CONFLICT';

export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'VALIDATION_FAILED':
    case 'REGION_INVALID_CODE':
    case 'REGION_INVALID_GEOMETRY':
    case 'REGION_OUTSIDE_PARENT':
    case 'REGION_OVERLAP':
    case 'REGION_IMPORT_FAILED':
      return 400;
    case 'UNAUTHENTICATED':
    case 'AUTH_INVALID_CREDENTIALS':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
    case 'GRID_NOT_FOUND':
      return 404;
    case 'CONFLICT':
    case 'CASE_INVALID_TRANSITION':
    case 'CASE_VERSION_CONFLICT':
      return 409;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 415;
    case 'AUTH_LOCKED':
    case 'RATE_LIMITED':
      return 429;
    case 'DATABASE_UNAVAILABLE':
      return 503;
    case 'INTERNAL':
      return 500;
    case 'CASE_OUTSIDE_GRIDS':
    case 'CASE_INVALID_CATEGORY':
    case 'CASE_PHOTO_INVALID':
      return 400;
    case 'CASE_CHANNEL_NOT_ALLOWED':
      return 403;
    case 'CASE_PHOTO_QUOTA':
      return 429;
  }
}

export interface FieldError {
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields?: FieldError[],
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export function notFound(what = 'Not found'): DomainError {
  return new DomainError('NOT_FOUND', what);
}
