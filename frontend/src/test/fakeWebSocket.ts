/** A WebSocket stand-in for LiveFeedClient tests: records URLs, lets tests push messages and closes. */
import type { WebSocketLike } from '../feed/LiveFeedClient';

export class FakeWebSocket implements WebSocketLike {
  static instances: FakeWebSocket[] = [];
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  closedWith: number | null = null;

  constructor(public readonly url: string) {
    FakeWebSocket.instances.push(this);
  }

  static reset(): void {
    FakeWebSocket.instances = [];
  }

  static last(): FakeWebSocket {
    const socket = FakeWebSocket.instances.at(-1);
    if (!socket) throw new Error('no socket was opened');
    return socket;
  }

  /** The query parameters of the URL the client connected with. */
  get params(): URLSearchParams {
    return new URL(this.url).searchParams;
  }

  /** The server sends `message` (an object, sent as JSON). */
  receive(message: unknown): void {
    this.onmessage?.({ data: JSON.stringify(message) } as MessageEvent);
  }

  /** The server (or network) closes the socket with `code`. */
  serverClose(code = 1006, reason = ''): void {
    this.onclose?.({ code, reason } as CloseEvent);
  }

  close(code = 1000): void {
    this.closedWith = code;
  }
}

export const createFakeSocket = (url: string) => new FakeWebSocket(url);
