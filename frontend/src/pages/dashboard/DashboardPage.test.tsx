import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import { DashboardPage } from './DashboardPage';
import type { Health } from '../../api/models';
import { makeOperation, makeTrade } from '../../test/fixtures';
import { mockApi, renderWithProviders } from '../../test/utils';

vi.mock('lightweight-charts', () => {
  const series = { setData: vi.fn() };
  const chart = { addSeries: vi.fn(() => series), timeScale: () => ({ fitContent: vi.fn() }), remove: vi.fn() };
  return { createChart: vi.fn(() => chart), BaselineSeries: {}, ColorType: { Solid: 'solid' } };
});

afterEach(() => vi.unstubAllGlobals());

const health: Health = {
  status: 'ok', problems: [], mode: 'trading', store: { ok: true, embedded: true },
  broker: { name: 'paper', state: 'CONNECTED', ok: true },
  worker: { running: true, enabled: true, interval_seconds: 60, cycles: 3, last_cycle_at: '2025-01-20T12:00:00Z',
    next_run_at: null, last_result: null },
  engine: { runners: 1, running: 1, bars_processed: 1229 },
};

const stats = {
  trade_count: 2, winning_trades: 1, losing_trades: 1, win_rate: 0.5, total_pnl: 12.5, gross_profit: 20, gross_loss: -7.5,
  profit_factor: 2.67, average_win: 20, average_loss: -7.5, largest_win: 20, largest_loss: -7.5, max_drawdown: 7.5,
  total_commission: 1.1, realized_pnl: 12.5, unrealized_pnl: -3.25, operations: 2, operations_by_status: { active: 1, closed: 1 },
};

function serve(overrides: Record<string, unknown> = {}) {
  return mockApi({
    'GET /api/stats/overall': stats,
    'GET /health': health,
    'GET /api/v1/mode': { mode: 'trading', broker: 'paper', caption: 'Trading Portal - TRADING' },
    'GET /api/operations': [makeOperation('op1'), makeOperation('op2', { status: 'closed' })],
    'GET /api/operations/op1/trades': [makeTrade('t1', { exit_time: '2025-01-20T18:00:00Z', pnl: -7.5 })],
    'GET /api/operations/op2/trades': [makeTrade('t2', { operation_id: 'op2', exit_time: '2025-01-21T18:00:00Z', pnl: 20 })],
    ...overrides,
  });
}

describe('DashboardPage', () => {
  it('shows realized and unrealized P/L in the quote currency', async () => {
    serve();
    renderWithProviders(<DashboardPage />);
    await waitFor(() => expect(screen.getByTestId('dash-realized-pnl')).toHaveTextContent('+12.50 CAD'));
    expect(screen.getByTestId('dash-unrealized-pnl')).toHaveTextContent('-3.25 CAD');
  });

  it('lists running operations and recent trades across operations, newest first', async () => {
    serve();
    renderWithProviders(<DashboardPage />);
    const active = await screen.findByTestId('dash-active-operations');
    await waitFor(() => expect(within(active).getByTestId('dash-op-op1')).toBeInTheDocument());
    expect(within(active).queryByTestId('dash-op-op2')).not.toBeInTheDocument();
    expect(screen.getByTestId('dash-active-count')).toHaveTextContent('1 active');
    const trades = screen.getByTestId('dash-recent-trades');
    await waitFor(() => expect(within(trades).getAllByRole('row')).toHaveLength(3));
    const rows = within(trades).getAllByRole('row').slice(1);
    expect(rows[0]).toHaveAttribute('data-testid', 'dash-trade-t2');
    expect(rows[1]).toHaveTextContent('1.42953');
    expect(rows[1]).toHaveTextContent('-42.9 pips');
  });

  it('draws the equity curve from every trade', async () => {
    serve();
    renderWithProviders(<DashboardPage />);
    const curve = await screen.findByTestId('dash-equity-curve');
    // the first entry (0) and two exits
    await waitFor(() => expect(curve.querySelector('[data-points]')).toHaveAttribute('data-points', '3'));
  });

  it('shows the system status, even when /health answers 503', async () => {
    serve({
      'GET /health': () => Response.json({ ...health, status: 'degraded', problems: ['broker not connected'],
        broker: { name: 'ibkr', state: 'DISCONNECTED', ok: false } }, { status: 503 }),
    });
    renderWithProviders(<DashboardPage />);
    const status = await screen.findByTestId('dash-system-status');
    await waitFor(() => expect(within(status).getByTestId('status-broker')).toHaveTextContent('DISCONNECTED'));
    expect(status).toHaveTextContent('broker not connected');
    expect(within(status).getByTestId('status-mode')).toHaveTextContent('TRADING');
    expect(within(status).getByTestId('status-worker')).toHaveTextContent('running');
  });

  it('shows a service without a worker, and a worker whose status failed', async () => {
    serve({ 'GET /health': { ...health, worker: null } });
    const { unmount } = renderWithProviders(<DashboardPage />);
    const status = await screen.findByTestId('dash-system-status');
    await waitFor(() => expect(within(status).getByTestId('status-worker')).toHaveTextContent('none'));
    expect(within(status).queryByTestId('status-last-cycle')).toBeNull();
    unmount();

    serve({ 'GET /health': { ...health, worker: { running: false, enabled: true, error: 'scheduler gone' } } });
    renderWithProviders(<DashboardPage />);
    const failed = await screen.findByTestId('dash-system-status');
    await waitFor(() => expect(within(failed).getByTestId('status-worker')).toHaveTextContent('scheduler gone'));
  });

  it('shows empty states without operations', async () => {
    serve({ 'GET /api/operations': [] });
    renderWithProviders(<DashboardPage />);
    expect(await screen.findByText('No running operations')).toBeInTheDocument();
    expect(screen.getByText('No trades yet')).toBeInTheDocument();
    expect(screen.getByText('No closed trades yet.')).toBeInTheDocument();
  });
});
