/**
 * One WebSocket to `/ws/overall`, resumed after every disconnect.
 *
 * - Keeps, per operation, the last sequence number it delivered (seeded by
 *   the `hello`), and reconnects with `last_sequences=<JSON>` so the server
 *   sends what was missed: per operation no gap and no duplicate. Entries at
 *   or below the known sequence are dropped anyway.
 * - Reconnects with exponential backoff (with jitter), reset once a `hello`
 *   arrives. Close code 1008 (not authenticated) stops it and reports an auth
 *   failure; 4422 (a sequence the server does not know, e.g. a new database)
 *   forgets the sequences and reconnects fresh.
 */
import type { AnyFeedMessage } from './messages';

export type FeedState = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'unauthorized' | 'stopped';

export type WebSocketLike = {
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  close(code?: number, reason?: string): void;
};

export type WebSocketFactory = (url: string) => WebSocketLike;

export type LiveFeedOptions = {
  /** ws:// or wss:// base, e.g. `ws://host:4000`; default: the page's origin */
  baseUrl?: string;
  createSocket?: WebSocketFactory;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** 0..1: the fraction of the delay randomised (0 in tests) */
  jitter?: number;
  onAuthFailure?: () => void;
};

type MessageListener = (message: AnyFeedMessage) => void;
type StateListener = (state: FeedState) => void;

export function defaultFeedBaseUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}`;
}

export class LiveFeedClient {
  private socket: WebSocketLike | null = null;
  private token: string | null = null;
  private readonly sequences = new Map<string, number>();
  /** a hello was received once: the sequences are a valid resume point */
  private resumable = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private currentState: FeedState = 'idle';
  private readonly messageListeners = new Set<MessageListener>();
  private readonly stateListeners = new Set<StateListener>();
  private readonly options: Required<Omit<LiveFeedOptions, 'onAuthFailure' | 'baseUrl'>> &
    Pick<LiveFeedOptions, 'onAuthFailure' | 'baseUrl'>;

  constructor(options: LiveFeedOptions = {}) {
    this.options = {
      createSocket: (url) => new WebSocket(url),
      initialBackoffMs: 500,
      maxBackoffMs: 10_000,
      jitter: 0.2,
      ...options,
    };
  }

  get state(): FeedState {
    return this.currentState;
  }

  get connected(): boolean {
    return this.currentState === 'live';
  }

  /** The last sequence number seen per operation. */
  lastSequences(): Record<string, number> {
    return Object.fromEntries(this.sequences);
  }

  lastSequence(operationId: string): number | undefined {
    return this.sequences.get(operationId);
  }

  start(token: string): void {
    if (this.token === token && this.socket) return;
    this.stopSocket();
    this.token = token;
    this.attempt = 0;
    this.open('connecting');
  }

  stop(): void {
    this.stopSocket();
    this.token = null;
    this.sequences.clear();
    this.resumable = false;
    this.setState('stopped');
  }

  subscribe(listener: MessageListener): () => void {
    this.messageListeners.add(listener);
    return () => {
      this.messageListeners.delete(listener);
    };
  }

  onStateChange(listener: StateListener): () => void {
    this.stateListeners.add(listener);
    return () => {
      this.stateListeners.delete(listener);
    };
  }

  /** The URL of the next connection (exposed for tests). */
  url(): string {
    const params = new URLSearchParams();
    params.set('token', this.token ?? '');
    if (this.resumable) params.set('last_sequences', JSON.stringify(this.lastSequences()));
    return `${this.options.baseUrl ?? defaultFeedBaseUrl()}/ws/overall?${params.toString()}`;
  }

  private open(state: FeedState): void {
    this.setState(state);
    const socket = this.options.createSocket(this.url());
    this.socket = socket;
    socket.onmessage = (event) => {
      if (this.socket === socket) this.handle(String(event.data));
    };
    socket.onclose = (event) => {
      if (this.socket === socket) this.closed(event.code);
    };
    socket.onerror = () => {
      // a close event follows; nothing to do here
    };
  }

  private handle(raw: string): void {
    let message: AnyFeedMessage;
    try {
      message = JSON.parse(raw) as AnyFeedMessage;
    } catch {
      return;
    }
    if (message.type === 'hello' && 'last_sequences' in message) {
      for (const [id, seq] of Object.entries(message.last_sequences as Record<string, number>)) {
        if ((this.sequences.get(id) ?? -1) < seq) this.sequences.set(id, seq);
      }
      this.resumable = true;
      this.attempt = 0;
      this.setState('live');
    } else if (message.type === 'journal_entry') {
      const id = String(message.operation_id);
      const seq = Number(message.sequence_number);
      if (seq <= (this.sequences.get(id) ?? 0)) return; // already seen
      this.sequences.set(id, seq);
    }
    for (const listener of this.messageListeners) {
      try {
        listener(message);
      } catch (error) {
        console.error('live feed listener failed', error);
      }
    }
  }

  private closed(code: number): void {
    this.socket = null;
    if (this.token === null) return;
    if (code === 1008) {
      this.setState('unauthorized');
      this.options.onAuthFailure?.();
      return;
    }
    if (code === 4422) {
      this.sequences.clear();
      this.resumable = false;
    }
    this.scheduleReconnect();
  }

  /** The delay before reconnect attempt `attempt` (0-based), before jitter. */
  backoffMs(attempt: number): number {
    return Math.min(this.options.maxBackoffMs, this.options.initialBackoffMs * 2 ** attempt);
  }

  private scheduleReconnect(): void {
    const base = this.backoffMs(this.attempt);
    const delay = base * (1 - this.options.jitter * Math.random());
    this.attempt += 1;
    this.setState('reconnecting');
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.token !== null) this.open('reconnecting');
    }, delay);
  }

  private stopSocket(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onmessage = null;
      socket.onclose = null;
      socket.onerror = null;
      socket.close(1000, 'client stopped');
    }
  }

  private setState(state: FeedState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    for (const listener of this.stateListeners) listener(state);
  }
}
