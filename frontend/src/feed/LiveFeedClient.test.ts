import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveFeedClient } from './LiveFeedClient';
import type { AnyFeedMessage } from './messages';
import { FakeWebSocket, createFakeSocket } from '../test/fakeWebSocket';

function entry(operationId: string, sequence: number, replayed = false) {
  return {
    type: 'journal_entry', operation_id: operationId, sequence_number: sequence, replayed,
    entry: { id: `e${sequence}`, operation_id: operationId, sequence_number: sequence, action_type: 'ORDER_FILLED',
      action_data: {}, timestamp: '2025-01-01T00:00:00Z', source: 'engine', user: null, event_id: `ev${sequence}` },
  };
}

function client(onAuthFailure = vi.fn()) {
  return new LiveFeedClient({ createSocket: createFakeSocket, baseUrl: 'ws://host', jitter: 0,
    initialBackoffMs: 100, maxBackoffMs: 1000, onAuthFailure });
}

beforeEach(() => {
  FakeWebSocket.reset();
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('LiveFeedClient', () => {
  it('connects to /ws/overall with the token and no resume point at first', () => {
    const feed = client();
    feed.start('tok');
    const socket = FakeWebSocket.last();
    expect(socket.url.startsWith('ws://host/ws/overall?')).toBe(true);
    expect(socket.params.get('token')).toBe('tok');
    expect(socket.params.has('last_sequences')).toBe(false);
    expect(feed.state).toBe('connecting');
  });

  it('is live after the hello, which seeds the sequences', () => {
    const feed = client();
    feed.start('tok');
    FakeWebSocket.last().receive({ type: 'hello', last_sequences: { a: 127, b: 3 } });
    expect(feed.state).toBe('live');
    expect(feed.connected).toBe(true);
    expect(feed.lastSequences()).toEqual({ a: 127, b: 3 });
  });

  it('resumes with the last sequence seen per operation after a disconnect', () => {
    const feed = client();
    feed.start('tok');
    const first = FakeWebSocket.last();
    first.receive({ type: 'hello', last_sequences: { a: 127, b: 3 } });
    first.receive(entry('a', 128));
    first.receive(entry('c', 1)); // an operation created after the hello
    first.serverClose(1012);
    expect(feed.state).toBe('reconnecting');
    expect(FakeWebSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(100);
    expect(FakeWebSocket.instances).toHaveLength(2);
    const resumed = FakeWebSocket.last();
    expect(JSON.parse(resumed.params.get('last_sequences') ?? '')).toEqual({ a: 128, b: 3, c: 1 });
    expect(resumed.params.get('token')).toBe('tok');
  });

  it('drops entries at or below the sequence it has (no duplicates) and passes the rest on', () => {
    const feed = client();
    const seen: AnyFeedMessage[] = [];
    feed.subscribe((m) => seen.push(m));
    feed.start('tok');
    const socket = FakeWebSocket.last();
    socket.receive({ type: 'hello', last_sequences: { a: 5 } });
    socket.receive(entry('a', 5, true));
    socket.receive(entry('a', 6, true));
    socket.receive(entry('a', 6));
    socket.receive({ type: 'trade_event', operation_id: 'a', sequence_number: 6, event: { type: 'entry' } });
    expect(seen.map((m) => `${m.type}:${String((m as { sequence_number?: number }).sequence_number ?? '')}`))
      .toEqual(['hello:', 'journal_entry:6', 'trade_event:6']);
    expect(feed.lastSequence('a')).toBe(6);
  });

  it('backs off exponentially and resets once a hello arrives', () => {
    const feed = client();
    feed.start('tok');
    expect(feed.backoffMs(0)).toBe(100);
    expect(feed.backoffMs(3)).toBe(800);
    expect(feed.backoffMs(10)).toBe(1000);
    FakeWebSocket.last().serverClose(1006);
    vi.advanceTimersByTime(99);
    expect(FakeWebSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.instances).toHaveLength(2);
    FakeWebSocket.last().serverClose(1006);
    vi.advanceTimersByTime(199);
    expect(FakeWebSocket.instances).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.instances).toHaveLength(3);
    FakeWebSocket.last().receive({ type: 'hello', last_sequences: {} });
    FakeWebSocket.last().serverClose(1006);
    vi.advanceTimersByTime(100);
    expect(FakeWebSocket.instances).toHaveLength(4);
  });

  it('stops and reports an auth failure on close code 1008', () => {
    const onAuthFailure = vi.fn();
    const feed = client(onAuthFailure);
    feed.start('tok');
    FakeWebSocket.last().serverClose(1008, 'invalid token');
    expect(feed.state).toBe('unauthorized');
    expect(onAuthFailure).toHaveBeenCalledOnce();
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('forgets its sequences when the server rejects them (4422)', () => {
    const feed = client();
    feed.start('tok');
    FakeWebSocket.last().receive({ type: 'hello', last_sequences: { a: 9 } });
    FakeWebSocket.last().serverClose(4422, 'last_sequences: past the journal');
    vi.advanceTimersByTime(100);
    expect(FakeWebSocket.last().params.has('last_sequences')).toBe(false);
  });

  it('closes its socket and stops reconnecting when stopped', () => {
    const feed = client();
    feed.start('tok');
    const socket = FakeWebSocket.last();
    feed.stop();
    expect(socket.closedWith).toBe(1000);
    socket.serverClose(1006);
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(feed.state).toBe('stopped');
  });

  it('reports state changes', () => {
    const feed = client();
    const states: string[] = [];
    feed.onStateChange((s) => states.push(s));
    feed.start('tok');
    FakeWebSocket.last().receive({ type: 'hello', last_sequences: {} });
    FakeWebSocket.last().serverClose(1001);
    vi.advanceTimersByTime(100);
    FakeWebSocket.last().receive({ type: 'hello', last_sequences: {} });
    expect(states).toEqual(['connecting', 'live', 'reconnecting', 'live']);
  });
});
