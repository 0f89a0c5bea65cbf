import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { OperationsPage } from './OperationsPage';
import { makeOperation } from '../../test/fixtures';
import { mockApi, renderWithProviders } from '../../test/utils';

afterEach(() => vi.unstubAllGlobals());

const active = makeOperation('op1', { status: 'active' });
const paused = makeOperation('op2', { status: 'paused', asset: 'EUR-USD', strategy_name: 'MeanReversionStrategy' });
const closed = makeOperation('op3', { status: 'closed' });

function serve(overrides: Record<string, unknown> = {}) {
  return mockApi({
    'GET /api/operations': (request: Request) => {
      const status = new URL(request.url).searchParams.get('status');
      return [active, paused, closed].filter((o) => !status || o.status === status);
    },
    'GET /api/strategies': [{ name: 'MomentumStrategy', description: '', params_schema: { properties: {} }, defaults: {}, higher_bar_sizes: [] }],
    ...overrides,
  });
}

describe('OperationsPage', () => {
  it('lists operations with status, asset, strategy and P/L', async () => {
    serve();
    renderWithProviders(<OperationsPage />, { route: '/operations' });
    const row = await screen.findByTestId('op-row-op1');
    expect(within(row).getByText('USD-CAD')).toBeInTheDocument();
    expect(within(row).getByText('MomentumStrategy')).toBeInTheDocument();
    expect(screen.getByTestId('op-status-op2')).toHaveTextContent('paused');
    expect(screen.getByTestId('op-pnl-op1')).toHaveTextContent('-287.44 CAD');
    expect(screen.getByTestId('op-pnl-op2')).toHaveTextContent('-287.44 USD');
  });

  it('offers only the actions that apply, to traders', async () => {
    serve();
    renderWithProviders(<OperationsPage />, { role: 'trader', route: '/operations' });
    await screen.findByTestId('op-row-op1');
    expect(screen.getByTestId('op-pause-op1')).toBeInTheDocument();
    expect(screen.queryByTestId('op-resume-op1')).not.toBeInTheDocument();
    expect(screen.getByTestId('op-resume-op2')).toBeInTheDocument();
    expect(screen.queryByTestId('op-pause-op2')).not.toBeInTheDocument();
    expect(screen.getByTestId('op-close-op2')).toBeInTheDocument();
    expect(screen.queryByTestId('op-close-op3')).not.toBeInTheDocument();
  });

  it('hides every action from viewers', async () => {
    serve();
    renderWithProviders(<OperationsPage />, { role: 'viewer', route: '/operations' });
    await screen.findByTestId('op-row-op1');
    expect(screen.queryByTestId('op-pause-op1')).not.toBeInTheDocument();
    expect(screen.queryByTestId('op-close-op1')).not.toBeInTheDocument();
    expect(screen.queryByTestId('op-resume-op2')).not.toBeInTheDocument();
    expect(screen.queryByText('New operation')).not.toBeInTheDocument();
  });

  it('filters on the server by status', async () => {
    const api = serve();
    renderWithProviders(<OperationsPage />, { route: '/operations' });
    await screen.findByTestId('op-row-op1');
    await userEvent.selectOptions(screen.getByTestId('filter-status'), 'paused');
    await waitFor(() => expect(screen.queryByTestId('op-row-op1')).not.toBeInTheDocument());
    expect(screen.getByTestId('op-row-op2')).toBeInTheDocument();
    expect(api.log()).toContain('GET /api/operations?status=paused&limit=1000');
  });

  it('offers the assets and strategies of existing operations as filters', async () => {
    const api = serve();
    renderWithProviders(<OperationsPage />, { route: '/operations?asset=EUR-USD' });
    await waitFor(() => expect(api.log()).toContain('GET /api/operations?asset=EUR-USD&limit=1000'));
    const asset = screen.getByTestId('filter-asset');
    await waitFor(() => expect(within(asset).getByRole('option', { name: 'USD-CAD' })).toBeInTheDocument());
    expect(asset).toHaveValue('EUR-USD');
    const strategy = screen.getByTestId('filter-strategy');
    expect(within(strategy).getByRole('option', { name: 'MeanReversionStrategy' })).toBeInTheDocument();
    await userEvent.selectOptions(strategy, 'MomentumStrategy');
    await waitFor(() => expect(api.log()).toContain('GET /api/operations?asset=EUR-USD&strategy_name=MomentumStrategy&limit=1000'));
  });

  it('pauses at once', async () => {
    const api = serve({ 'POST /api/operations/op1/pause': { ...active, status: 'paused' } });
    renderWithProviders(<OperationsPage />, { role: 'trader', route: '/operations' });
    await userEvent.click(await screen.findByTestId('op-pause-op1'));
    await waitFor(() => expect(api.calls('POST /api/operations/op1/pause')).toHaveLength(1));
  });

  it('closes only after a confirmation', async () => {
    const api = serve({ 'DELETE /api/operations/op1': { ...active, status: 'closed' } });
    renderWithProviders(<OperationsPage />, { role: 'trader', route: '/operations' });
    await userEvent.click(await screen.findByTestId('op-close-op1'));
    expect(await screen.findByTestId('confirm-dialog')).toBeInTheDocument();
    await userEvent.click(screen.getByTestId('confirm-cancel'));
    await waitFor(() => expect(screen.queryByTestId('confirm-dialog')).not.toBeInTheDocument());
    expect(api.calls('DELETE /api/operations/op1')).toHaveLength(0);

    await userEvent.click(screen.getByTestId('op-close-op1'));
    await userEvent.click(await screen.findByTestId('confirm-ok'));
    await waitFor(() => expect(api.calls('DELETE /api/operations/op1')).toHaveLength(1));
  });

  it('shows a failed action', async () => {
    serve({ 'POST /api/operations/op1/pause': () => Response.json({ detail: 'operation is closed' }, { status: 409 }) });
    renderWithProviders(<OperationsPage />, { role: 'trader', route: '/operations' });
    await userEvent.click(await screen.findByTestId('op-pause-op1'));
    expect(await screen.findByTestId('action-error')).toHaveTextContent('operation is closed');
  });

  it('shows an empty state and a load error', async () => {
    mockApi({ 'GET /api/operations': [], 'GET /api/strategies': [] });
    const { unmount } = renderWithProviders(<OperationsPage />, { route: '/operations' });
    expect(await screen.findByText('No operations yet')).toBeInTheDocument();
    unmount();
    mockApi({ 'GET /api/operations': () => Response.json({ detail: 'store down' }, { status: 500 }), 'GET /api/strategies': [] });
    renderWithProviders(<OperationsPage />, { route: '/operations' });
    expect(await screen.findAllByTestId('error-state')).not.toHaveLength(0);
  });
});
