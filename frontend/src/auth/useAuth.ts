import { useContext } from 'react';
import { AuthContext, type AuthContextValue } from './AuthProvider';

/** The session: `user`, `can(role)`, `login()`, `logout()`. */
export function useAuth(): AuthContextValue {
  const auth = useContext(AuthContext);
  if (auth === null) throw new Error('useAuth needs an <AuthProvider>');
  return auth;
}
