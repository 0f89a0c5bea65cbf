import { useSyncExternalStore } from 'react';
import { tokenStore } from './tokenStore';

/** The current bearer token (null when logged out), re-rendering on change. */
export function useToken(): string | null {
  return useSyncExternalStore(tokenStore.subscribe, tokenStore.get, () => null);
}
