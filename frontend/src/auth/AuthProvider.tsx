import { createContext, useCallback, useMemo, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call } from '../api/client';
import type { Me, Role, TokenResponse } from '../api/models';
import { queryKeys } from '../api/queryKeys';
import { hasRole } from './roles';
import { tokenStore } from './tokenStore';
import { useToken } from './useToken';

export type AuthContextValue = {
  token: string | null;
  /** the logged-in user (null while loading or logged out) */
  user: Me | null;
  /** true while the user of a stored token is being fetched */
  loading: boolean;
  /** why the user could not be fetched (other than a 401, which logs out) */
  error: Error | null;
  retry(): void;
  login(username: string, password: string): Promise<Me>;
  logout(): void;
  /** may the user act with `role`'s rights? (`can('trader')` for pause, close, ...) */
  can(role: Role): boolean;
};

export const AuthContext = createContext<AuthContextValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const token = useToken();
  const queryClient = useQueryClient();
  const me = useQuery({
    queryKey: [...queryKeys.me, token],
    queryFn: () => call<Me>(api.GET('/api/auth/me')),
    enabled: token !== null,
    staleTime: Infinity,
    refetchInterval: false,
    retry: false,
  });

  const login = useCallback(async (username: string, password: string): Promise<Me> => {
    const answer = await call<TokenResponse>(api.POST('/api/auth/token', {
      body: { username, password, scope: '' },
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    }));
    const user: Me = { username, role: answer.role };
    queryClient.setQueryData([...queryKeys.me, answer.access_token], user);
    tokenStore.set(answer.access_token);
    return user;
  }, [queryClient]);

  const logout = useCallback(() => {
    tokenStore.clear('logout');
    queryClient.clear();
  }, [queryClient]);

  const { data: meData, isPending: mePending, error: meError, refetch: refetchMe } = me;
  const value = useMemo<AuthContextValue>(() => {
    const user = token !== null ? meData ?? null : null;
    return {
      token,
      user,
      loading: token !== null && mePending,
      error: token !== null ? meError : null,
      retry: () => void refetchMe(),
      login,
      logout,
      can: (role) => hasRole(user?.role, role),
    };
  }, [token, meData, mePending, meError, refetchMe, login, logout]);

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
