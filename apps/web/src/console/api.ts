import { ApiError, createClient } from '@wangge/contracts';
import { QueryClient } from '@tanstack/react-query';
import i18n from './i18n.ts';

/** The typed client from packages/contracts; the browser authenticates with the httpOnly session cookie. */
export const api = createClient({
  language: () => i18n.language,
  validate: import.meta.env.DEV,
});

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      refetchOnWindowFocus: false,
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
    },
  },
});

export { ApiError };

/** The message to show for an error: the server's (already in the user's language) or a generic one. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Per-field messages of a 400, keyed by field path, for AntD `Form.setFields`. */
export function fieldErrors(error: unknown): { name: (string | number)[]; errors: string[] }[] {
  if (!(error instanceof ApiError) || !error.fields) return [];
  return error.fields.map((f) => ({
    name: f.field.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part)),
    errors: [f.message],
  }));
}
