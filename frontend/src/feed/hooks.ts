import { useContext, useEffect, useRef, useSyncExternalStore } from 'react';
import { LiveFeedContext } from './LiveFeedProvider';
import type { FeedState, LiveFeedClient } from './LiveFeedClient';
import type { AnyFeedMessage } from './messages';

export function useLiveFeed(): LiveFeedClient {
  const feed = useContext(LiveFeedContext);
  if (feed === null) throw new Error('useLiveFeed needs a <LiveFeedProvider>');
  return feed;
}

/** The connection state; `connected` is true while the socket is live. */
export function useFeedStatus(): { state: FeedState; connected: boolean } {
  const feed = useLiveFeed();
  const state = useSyncExternalStore(
    (onChange) => feed.onStateChange(onChange),
    () => feed.state,
  );
  return { state, connected: state === 'live' };
}

export type FeedFilter = {
  /** only messages of this operation */
  operationId?: string;
  /** only these message types, e.g. ['signal', 'trade_event'] */
  types?: readonly string[];
};

/**
 * Call `handler` for every live-feed message that passes `filter` (after the
 * cache was patched). The handler may change between renders.
 *
 *   useFeedMessages((m) => { if (m.type === 'trade_event') ... }, { operationId: id, types: ['trade_event'] });
 */
export function useFeedMessages(handler: (message: AnyFeedMessage) => void, filter: FeedFilter = {}): void {
  const feed = useLiveFeed();
  const handlerRef = useRef(handler);
  useEffect(() => {
    handlerRef.current = handler;
  });
  const { operationId } = filter;
  const types = filter.types?.join('\u0000');
  useEffect(() => {
    const wanted = types === undefined ? null : new Set(types.split('\u0000'));
    return feed.subscribe((message) => {
      if (operationId !== undefined && (!('operation_id' in message) || message.operation_id !== operationId)) return;
      if (wanted !== null && !wanted.has(message.type)) return;
      handlerRef.current(message);
    });
  }, [feed, operationId, types]);
}
