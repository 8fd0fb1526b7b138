import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { z } from 'zod';
import type { MeResponseSchema } from '@wangge/contracts';
import { createContext, useContext, type ReactNode } from 'react';
import { api, ApiError } from '../api.ts';

export type Me = z.output<typeof MeResponseSchema>;

interface AuthState {
  me: Me | null;
  loading: boolean;
  refresh: () => Promise<void>;
  signOut: () => Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

/** Who is signed in (`GET /api/me`); null when the session cookie is missing or expired. */
export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: ['me'],
    queryFn: async () => {
      try {
        return await api.me({});
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    staleTime: 60_000,
  });
  const state: AuthState = {
    me: query.data ?? null,
    loading: query.isPending,
    refresh: async () => {
      await queryClient.invalidateQueries({ queryKey: ['me'] });
    },
    signOut: async () => {
      try {
        await api.logout({});
      } finally {
        queryClient.clear();
        queryClient.setQueryData(['me'], null);
      }
    },
  };
  return <AuthContext.Provider value={state}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error('useAuth outside AuthProvider');
  return state;
}

/** The signed-in user (inside the signed-in part of the app only). */
export function useMe(): Me {
  const { me } = useAuth();
  if (!me) throw new Error('useMe without a session');
  return me;
}

export function can(me: Me | null, permission: string): boolean {
  return !!me && me.permissions.includes(permission);
}

export function hasRole(me: Me | null, ...roles: string[]): boolean {
  return !!me && me.roles.some((r) => roles.includes(r.role));
}

/** The region the user looks at first: the widest region of their scope (null for admins with no region). */
export function homeRegion(me: Me): { code: string; name: string; level: string } | null {
  const order = ['province', 'city', 'district', 'street', 'community', 'grid', 'microgrid'];
  const sorted = [...me.scope].sort((a, b) => order.indexOf(a.level) - order.indexOf(b.level));
  const first = sorted[0];
  return first ? { code: first.regionCode, name: first.name, level: first.level } : null;
}
