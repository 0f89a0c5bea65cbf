import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { useAuth } from './useAuth';
import { ErrorState, Loading } from '../components/states';

/** Renders its children only when logged in; otherwise goes to /login (and back after). */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { token, user, loading, error, retry } = useAuth();
  const location = useLocation();
  if (token === null) {
    return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  }
  if (error !== null && user === null) return <ErrorState error={error} onRetry={retry} />;
  if (loading || user === null) return <Loading label="Signing in…" />;
  return <>{children}</>;
}
