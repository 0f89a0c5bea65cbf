/**
 * The bearer token, kept in sessionStorage (per tab, gone when the tab
 * closes). A tiny external store so React (useSyncExternalStore), the API
 * client and the live feed all see the same token.
 */
const KEY = 'lt.token';

export type LogoutReason = 'logout' | 'expired';

type Listener = () => void;
const listeners = new Set<Listener>();
let lastLogoutReason: LogoutReason | null = null;

function read(): string | null {
  try {
    return window.sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

function emit(): void {
  for (const listener of listeners) listener();
}

export const tokenStore = {
  get: read,
  set(token: string): void {
    window.sessionStorage.setItem(KEY, token);
    lastLogoutReason = null;
    emit();
  },
  clear(reason: LogoutReason = 'logout'): void {
    if (read() === null) return;
    window.sessionStorage.removeItem(KEY);
    lastLogoutReason = reason;
    emit();
  },
  /** Why the last session ended ('expired' after a 401), for the login page. */
  lastLogoutReason(): LogoutReason | null {
    return lastLogoutReason;
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
