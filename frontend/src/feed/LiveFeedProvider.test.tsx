import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, screen, waitFor } from '@testing-library/react';
import { useQuery, type Query } from '@tanstack/react-query';
import { FeedStatus } from '../components/FeedStatus';
import { FakeWebSocket } from '../test/fakeWebSocket';
import { renderWithProviders } from '../test/utils';
import { useFeedMessages } from './hooks';
import { POLL_INTERVAL_MS } from './LiveFeedProvider';
import type { AnyFeedMessage } from './messages';

beforeEach(() => FakeWebSocket.reset());
afterEach(() => vi.unstubAllGlobals());

function pollInterval(queryClient: ReturnType<typeof renderWithProviders>['queryClient']) {
  const interval = queryClient.getDefaultOptions().queries?.refetchInterval;
  return typeof interval === 'function' ? interval({} as Query<unknown, Error, unknown, readonly unknown[]>) : interval;
}

describe('LiveFeedProvider', () => {
  it('connects once logged in and shows "live" after the hello', async () => {
    renderWithProviders(<FeedStatus />);
    const socket = FakeWebSocket.last();
    expect(socket.params.get('token')).toBe('test-token');
    expect(screen.getByTestId('feed-status')).not.toHaveTextContent('live');
    act(() => socket.receive({ type: 'hello', last_sequences: {} }));
    expect(screen.getByTestId('feed-status')).toHaveTextContent('live');
    act(() => socket.serverClose(1006));
    expect(screen.getByTestId('feed-status')).toHaveTextContent('reconnecting');
    expect(screen.getByTestId('feed-status')).not.toHaveTextContent(/\blive\b/);
  });

  it('does not connect while logged out', () => {
    renderWithProviders(<FeedStatus />, { role: null });
    expect(FakeWebSocket.instances).toHaveLength(0);
  });

  it('makes queries poll only while the socket is down', async () => {
    const { queryClient } = renderWithProviders(<FeedStatus />);
    await waitFor(() => expect(pollInterval(queryClient)).toBe(POLL_INTERVAL_MS));
    act(() => FakeWebSocket.last().receive({ type: 'hello', last_sequences: {} }));
    expect(pollInterval(queryClient)).toBe(false);
    act(() => FakeWebSocket.last().serverClose(1012));
    expect(pollInterval(queryClient)).toBe(POLL_INTERVAL_MS);
  });

  it('refetches shown queries when the socket comes up, and on entries that affect them', async () => {
    let calls = 0;
    function Probe() {
      const q = useQuery({ queryKey: ['operation', 'op1', 'trades', {}], queryFn: () => ++calls });
      return <div data-testid="probe">{q.data}</div>;
    }
    renderWithProviders(<Probe />);
    await waitFor(() => expect(screen.getByTestId('probe')).toHaveTextContent('1'));
    act(() => FakeWebSocket.last().receive({ type: 'hello', last_sequences: { op1: 4 } }));
    await waitFor(() => expect(screen.getByTestId('probe')).toHaveTextContent('2'));
    act(() => FakeWebSocket.last().receive({
      type: 'journal_entry', operation_id: 'op1', sequence_number: 5, replayed: false,
      entry: { id: 'e', operation_id: 'op1', sequence_number: 5, action_type: 'ORDER_FILLED', action_data: {},
        timestamp: '', source: 'engine', user: null, event_id: 'x' },
      changes: { trades: [{ id: 't' }] },
    }));
    await waitFor(() => expect(screen.getByTestId('probe')).toHaveTextContent('3'));
  });

  it('passes messages to page subscriptions, filtered by operation and type', () => {
    const seen: AnyFeedMessage[] = [];
    function Listener() {
      useFeedMessages((m) => seen.push(m), { operationId: 'op1', types: ['trade_event'] });
      return null;
    }
    renderWithProviders(<Listener />);
    const socket = FakeWebSocket.last();
    act(() => {
      socket.receive({ type: 'hello', last_sequences: {} });
      socket.receive({ type: 'trade_event', operation_id: 'op2', sequence_number: 1, event: { type: 'entry' } });
      socket.receive({ type: 'signal', operation_id: 'op1', sequence_number: 1 });
      socket.receive({ type: 'trade_event', operation_id: 'op1', sequence_number: 1, event: { type: 'exit' } });
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ type: 'trade_event', operation_id: 'op1' });
  });
});
