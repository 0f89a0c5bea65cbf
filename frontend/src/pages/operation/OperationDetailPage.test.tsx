import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { JournalEntry, Operation, Position } from '../../api/models';
import { FakeWebSocket } from '../../test/fakeWebSocket';
import { makeOperation, makeTrade } from '../../test/fixtures';
import { mockApi, renderWithProviders } from '../../test/utils';
import type { LoggedTrade } from './chartData';
import OperationDetailPage from './OperationDetailPage';

// jsdom has no canvas: a lightweight-charts stand-in that records what the page draws.
const drawn = vi.hoisted(() => ({ markers: [] as unknown[][], candles: [] as unknown[][], priceLines: [] as unknown[] }));
vi.mock('lightweight-charts', () => {
  const series = (kind: string) => ({
    setData: (data: unknown[]) => { if (kind === 'candles') drawn.candles.push(data); },
    createPriceLine: (options: unknown) => { drawn.priceLines.push(options); return options; },
    removePriceLine: () => undefined,
  });
  return {
    CandlestickSeries: { type: 'candles' },
    LineSeries: { type: 'line' },
    LineStyle: { Solid: 0, Dotted: 1, Dashed: 2 },
    LineType: { Simple: 0, WithSteps: 1 },
    TickMarkType: { Year: 0, Month: 1, DayOfMonth: 2, Time: 3, TimeWithSeconds: 4 },
    createChart: () => ({
      addSeries: (definition: { type: string }) => series(definition.type === 'candles' ? 'candles' : 'line'),
      timeScale: () => ({ setVisibleLogicalRange: () => undefined, getVisibleLogicalRange: () => null }),
      remove: () => undefined,
    }),
    createSeriesMarkers: () => ({ setMarkers: (markers: unknown[]) => drawn.markers.push(markers) }),
  };
});

const OP = 'op1';
const H = 3600;
const T0 = Date.parse('2025-01-20T00:00:00Z') / 1000;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
const BARS = Array.from({ length: 48 }, (_, i) => ({
  time: iso(T0 + i * H), open: 1.43, high: 1.44, low: 1.42, close: 1.435, volume: 0,
}));

function loggedTrade(id: string, entry: number, exit: number | null, operationId = OP): LoggedTrade {
  return {
    tradeId: id, operationId, side: 'LONG', quantity: 10000, entryDateTime: iso(entry), entryPrice: 1.43,
    initialStopPrice: 1.42, targetPrice: 1.45, closeDateTime: exit === null ? null : iso(exit),
    closePrice: exit === null ? null : 1.45, closeReason: exit === null ? null : 'take_profit',
    points: exit === null ? null : 0.02, pnl: exit === null ? null : 199.4,
    markers: [
      { time: entry, position: 'belowBar', shape: 'arrowUp', color: '#26a69a', text: 'LONG @ 1.43' },
      ...(exit === null ? [] : [{ time: exit, position: 'aboveBar' as const, shape: 'arrowDown' as const, color: '#26a69a', text: 'take_profit @ 1.45' }]),
    ],
    stopSegments: [{ startTime: entry, endTime: exit, price: 1.42 }],
  };
}

const OPEN_POSITION: Position = {
  id: 'pos1', operation_id: OP, contract_symbol: 'USD-CAD', position_type: 'LONG', status: 'OPEN', quantity: 10000,
  entry_price: 1.43, current_price: 1.4312, unrealized_pnl: 12, unrealized_pnl_pct: 0.00084, realized_pnl: 0,
  stop_loss: 1.42, take_profit: 1.45, opened_at: iso(T0 + 30 * H), closed_at: null,
};

const entry = (seq: number, source: string, action: string, user: string | null = null): JournalEntry => ({
  id: `e${seq}`, operation_id: OP, sequence_number: seq, action_type: action, action_data: {},
  timestamp: iso(T0 + seq * 60), source, user, event_id: `ev${seq}`,
});
const JOURNAL = [
  entry(1, 'cli/demo', 'OPERATION_CREATED'),
  entry(2, 'engine', 'SIGNAL_GENERATED'),
  entry(3, 'worker', 'PRICE_EVENT'),
  entry(4, 'recovery', 'RECOVERY_STARTED'),
  entry(5, 'api/manual', 'ORDER_SUBMITTED', 'alice'),
];

/** The backend: the operation's status follows pause / resume / close. */
function serve(options: { mode?: 'trading' | 'simulation'; overrides?: Record<string, unknown> } = {}) {
  let operation: Operation = makeOperation(OP, { last_sequence_number: 5, trade_count: 1 });
  const become = (status: Operation['status']) => () => {
    operation = { ...operation, status, last_sequence_number: operation.last_sequence_number + 1 };
    return operation;
  };
  return mockApi({
    'GET /api/v1/mode': { mode: options.mode ?? 'trading', broker: 'PAPER', caption: 'Trading Portal - TRADING' },
    [`GET /api/operations/${OP}`]: () => operation,
    [`POST /api/operations/${OP}/pause`]: become('paused'),
    [`POST /api/operations/${OP}/resume`]: become('active'),
    [`DELETE /api/operations/${OP}`]: become('closed'),
    [`GET /api/operations/${OP}/stats`]: { unrealized_pnl: 12, win_rate: 1, profit_factor: null, max_drawdown: 0 },
    [`GET /api/operations/${OP}/positions`]: [OPEN_POSITION],
    [`GET /api/operations/${OP}/trades`]: [makeTrade('t1', { operation_id: OP })],
    [`GET /api/operations/${OP}/transactions`]: [],
    [`GET /api/operations/${OP}/orders`]: [],
    [`GET /api/operations/${OP}/journal`]: JOURNAL,
    'GET /api/v1/trade-log': {
      mode: 'trading', symbol: 'USD-CAD', interval: '1h',
      trades: [loggedTrade('p1', T0 + 2 * H, T0 + 5 * H), loggedTrade('x', T0 + 3 * H, T0 + 4 * H, 'other-op')],
    },
    [`GET /api/operations/${OP}/bars`]: BARS,
    'GET /api/recovery/last': Response.json({ detail: 'no recovery has run yet' }, { status: 404 }),
    ...options.overrides,
  });
}

function render(role: 'viewer' | 'trader' | 'admin' = 'trader') {
  return renderWithProviders(<OperationDetailPage />, { role, route: `/operations/${OP}`, path: '/operations/:id' });
}

const markersCount = () => screen.getByTestId('op-chart-markers-count').textContent;

beforeEach(() => {
  drawn.markers = [];
  drawn.candles = [];
  drawn.priceLines = [];
  FakeWebSocket.reset();
});
afterEach(() => vi.unstubAllGlobals());

describe('OperationDetailPage', () => {
  it('shows the configuration, the positions, trades and every table', async () => {
    serve();
    render();
    expect(await screen.findByTestId('op-detail')).toBeInTheDocument();
    for (const id of ['op-config', 'op-chart', 'positions-table', 'trades-table', 'transactions-table', 'orders-table',
      'journal-table', 'recovery-report']) {
      expect(screen.getByTestId(id)).toBeInTheDocument();
    }
    expect(within(screen.getByTestId('op-config')).getByText('1.50 × ATR(14)')).toBeInTheDocument();
    expect(await screen.findByTestId('trade-row-t1')).toBeInTheDocument();
    expect(await screen.findByTestId('position-pnl-pos1')).toHaveTextContent('+12.00 CAD');
    expect(within(screen.getByTestId('position-pnl-pos1')).getByText(/\+12\.0 pips/)).toBeInTheDocument();
    expect(await within(screen.getByTestId('recovery-report')).findByText('No recovery has run yet')).toBeInTheDocument();
  });

  it('labels each journal entry by its source, with the user of manual entries', async () => {
    serve();
    render();
    await screen.findByTestId('journal-row-5');
    expect(screen.getByTestId('journal-source-1')).toHaveTextContent(/^cli\/demo$/);
    expect(screen.getByTestId('journal-source-2')).toHaveTextContent(/^Engine$/);
    expect(screen.getByTestId('journal-source-3')).toHaveTextContent(/^Auto \(worker\)$/);
    expect(screen.getByTestId('journal-source-4')).toHaveTextContent(/^Recovery$/);
    expect(screen.getByTestId('journal-source-5')).toHaveTextContent(/^Manual \(console\)$/);
    expect(screen.getByTestId('journal-user-5')).toHaveTextContent('alice');
    // newest first
    const rows = screen.getAllByTestId(/^journal-row-/).map((r) => r.getAttribute('data-testid'));
    expect(rows[0]).toBe('journal-row-5');
  });

  it('draws the operation\'s trade-log markers on its bars, and the open position\'s levels', async () => {
    const api = serve();
    render();
    await waitFor(() => expect(markersCount()).toBe('2'));
    expect(drawn.candles.at(-1)).toHaveLength(48);
    expect(drawn.markers.at(-1)).toEqual([
      expect.objectContaining({ time: T0 + 2 * H, text: 'LONG @ 1.43' }),
      expect.objectContaining({ time: T0 + 5 * H, text: 'take_profit @ 1.45' }),
    ]);
    await waitFor(() => expect(drawn.priceLines).toEqual(expect.arrayContaining([
      expect.objectContaining({ price: 1.42, title: 'SL' }), expect.objectContaining({ price: 1.45, title: 'TP' }),
    ])));
    const log = api.log();
    expect(log).toContain('GET /api/v1/trade-log?symbol=USD-CAD&interval=1h');
    // the operation's own bars, loaded once
    const history = log.filter((l) => l.startsWith(`GET /api/operations/${OP}/bars`));
    expect(history).toEqual([`GET /api/operations/${OP}/bars?limit=2000`]);
  });

  it('adds markers from the live feed\'s trade events without a reload (simulation)', async () => {
    serve({ mode: 'simulation' });
    render();
    await waitFor(() => expect(markersCount()).toBe('2'));
    const socket = FakeWebSocket.last();
    const head = { tradeId: 'p9', operationId: OP, side: 'SHORT' };
    act(() => {
      socket.receive({ type: 'hello', last_sequences: {} });
      socket.receive({ type: 'trade_event', operation_id: OP, sequence_number: 40, event: {
        ...head, type: 'entry', time: iso(T0 + 10 * H), sequence: 40, price: 1.44, quantity: 10000,
        initialStopPrice: 1.45, targetPrice: 1.42, symbol: 'USDCAD', interval: '1h',
      } });
      // another operation's event changes nothing here
      socket.receive({ type: 'trade_event', operation_id: 'other-op', sequence_number: 7, event: {
        ...head, operationId: 'other-op', tradeId: 'q', type: 'entry', time: iso(T0 + 11 * H), sequence: 7, price: 1.44,
        quantity: 1, initialStopPrice: null, targetPrice: null,
      } });
    });
    await waitFor(() => expect(markersCount()).toBe('3'));
    act(() => {
      socket.receive({ type: 'trade_event', operation_id: OP, sequence_number: 48, event: {
        ...head, type: 'exit', time: iso(T0 + 12 * H), sequence: 48, closePrice: 1.43, closeReason: 'signal',
        quantity: 10000, remainingQuantity: 0, entryPrice: 1.44, points: 0.01, pnl: 99,
      } });
    });
    await waitFor(() => expect(markersCount()).toBe('4'));
    expect(drawn.markers.at(-1)).toContainEqual(expect.objectContaining({ time: T0 + 12 * H, position: 'belowBar' }));
  });

  it('pauses and resumes', async () => {
    const api = serve();
    const user = userEvent.setup();
    render();
    await user.click(await screen.findByTestId('op-detail-pause'));
    await waitFor(() => expect(screen.getByTestId('op-detail-resume')).toBeEnabled());
    expect(screen.queryByTestId('op-detail-pause')).toBeNull();
    expect(screen.getByTestId('op-detail-status')).toHaveTextContent('paused');
    await user.click(screen.getByTestId('op-detail-resume'));
    await waitFor(() => expect(screen.getByTestId('op-detail-pause')).toBeEnabled());
    expect(api.calls(`POST /api/operations/${OP}/pause`)).toHaveLength(1);
    expect(api.calls(`POST /api/operations/${OP}/resume`)).toHaveLength(1);
  });

  it('shows a refused action', async () => {
    serve({ overrides: { [`POST /api/operations/${OP}/pause`]: Response.json({ detail: 'operation is closed' }, { status: 409 }) } });
    const user = userEvent.setup();
    render();
    await user.click(await screen.findByTestId('op-detail-pause'));
    expect(await screen.findByTestId('op-action-error')).toHaveTextContent('Could not pause: operation is closed');
  });

  it('closes the operation only after a confirmation', async () => {
    const api = serve();
    const user = userEvent.setup();
    render();
    await user.click(await screen.findByTestId('op-detail-close'));
    await user.click(screen.getByTestId('confirm-cancel'));
    expect(api.calls(`DELETE /api/operations/${OP}`)).toHaveLength(0);
    await user.click(screen.getByTestId('op-detail-close'));
    await user.click(screen.getByTestId('confirm-ok'));
    await waitFor(() => expect(api.calls(`DELETE /api/operations/${OP}`)).toHaveLength(1));
    await waitFor(() => expect(screen.queryByTestId('op-detail-close')).toBeNull());
  });

  it('closes a position by hand after a confirmation', async () => {
    const api = serve({ overrides: { 'POST /api/positions/pos1/close': { position_id: 'pos1', operation_id: OP, status: 'closing' } } });
    const user = userEvent.setup();
    render();
    await user.click(await screen.findByTestId('position-close-pos1'));
    expect(screen.getByTestId('confirm-dialog')).toHaveTextContent(/LONG 10,000 USD-CAD opened at 1\.43000/);
    await user.click(screen.getByTestId('confirm-ok'));
    await waitFor(() => expect(api.calls('POST /api/positions/pos1/close')).toHaveLength(1));
    await waitFor(() => expect(screen.getByTestId('position-close-pos1')).toBeDisabled());
  });

  it('waits for a market order in flight before letting a position be closed', async () => {
    const order = {
      id: 'o1', operation_id: OP, client_order_id: 'LT-1', broker_order_id: 'b1', order_role: 'EXIT', order_type: 'MARKET',
      action: 'SELL', quantity: 10000, price: null, stop_loss: null, take_profit: null, parent_order_id: null,
      status: 'SUBMITTED', filled_quantity: 0, avg_fill_price: null, commission: 0, reason: 'signal', placed_at: iso(T0),
      filled_at: null, cancelled_at: null,
    };
    const stop = { ...order, id: 'o2', order_role: 'STOP_LOSS', order_type: 'STOP', action: 'SELL', price: 1.42 };
    let orders = [order, stop];
    serve({ overrides: { [`GET /api/operations/${OP}/orders`]: () => orders } });
    const { queryClient } = render();
    const button = await screen.findByTestId('position-close-pos1');
    await waitFor(() => expect(button).toBeDisabled());
    expect(button).toHaveTextContent('Order in flight');
    // filled: only the protective stop is working, which does not count
    orders = [{ ...order, status: 'FILLED' }, stop];
    await act(() => queryClient.invalidateQueries());
    await waitFor(() => expect(screen.getByTestId('position-close-pos1')).toBeEnabled());
  });

  it('shows no action to a viewer', async () => {
    serve();
    render('viewer');
    await screen.findByTestId('position-row-pos1');
    expect(screen.queryByTestId('op-detail-pause')).toBeNull();
    expect(screen.queryByTestId('op-detail-close')).toBeNull();
    expect(screen.queryByTestId('position-close-pos1')).toBeNull();
  });

  it('says when the operation does not exist', async () => {
    serve({ overrides: { [`GET /api/operations/${OP}`]: Response.json({ detail: 'no operation op1' }, { status: 404 }) } });
    render();
    expect(await screen.findByTestId('op-detail-error')).toHaveTextContent('No such operation');
  });
});
