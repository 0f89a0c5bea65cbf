import { createContext, useEffect, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { LiveFeedClient, type FeedState } from './LiveFeedClient';
import { CacheUpdater } from './cacheUpdater';
import { tokenStore } from '../auth/tokenStore';
import { useToken } from '../auth/useToken';

/** How often queries poll while the socket is down. */
export const POLL_INTERVAL_MS = 5_000;

/** Queries the feed never changes (the gateway's mode, the session's user, strategies). */
const STATIC_ROOTS = new Set(['mode', 'auth', 'strategies']);

export const LiveFeedContext = createContext<LiveFeedClient | null>(null);

/**
 * Owns the app's one live-feed connection (while logged in), feeds its
 * messages to the query cache, and makes every query poll only while the
 * socket is not live (the QueryClient's default `refetchInterval`).
 */
export function LiveFeedProvider({ children, client }: { children: ReactNode; client?: LiveFeedClient }) {
  const queryClient = useQueryClient();
  const token = useToken();
  const [feed] = useState(() => client ?? new LiveFeedClient({
    onAuthFailure: () => tokenStore.clear('expired'),
  }));

  useEffect(() => {
    const defaults = queryClient.getDefaultOptions();
    queryClient.setDefaultOptions({
      ...defaults,
      queries: { ...defaults.queries, refetchInterval: () => (feed.connected ? false : POLL_INTERVAL_MS) },
    });
    const updater = new CacheUpdater(queryClient);
    const unsubscribe = feed.subscribe((message) => updater.apply(message));
    let previous: FeedState = feed.state;
    const unwatch = feed.onStateChange((state) => {
      // Entering or leaving 'live' refetches what is shown: the first
      // refetch catches anything committed before the hello, and re-arms
      // every query's refetch interval (polling while down, none while live).
      if ((state === 'live') !== (previous === 'live')) {
        void queryClient.invalidateQueries({ refetchType: 'active', predicate: (q) => !STATIC_ROOTS.has(String(q.queryKey[0])) });
      }
      previous = state;
    });
    return () => {
      unsubscribe();
      unwatch();
      updater.dispose();
    };
  }, [feed, queryClient]);

  useEffect(() => {
    if (token) feed.start(token);
    else feed.stop();
  }, [feed, token]);

  useEffect(() => () => feed.stop(), [feed]);

  return <LiveFeedContext.Provider value={feed}>{children}</LiveFeedContext.Provider>;
}
