import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { SettingsPage } from './SettingsPage';
import type { BrokerConfig, KillSwitchProgress, KillSwitchResult } from '../../api/models';
import { mockApi, renderWithProviders } from '../../test/utils';

afterEach(() => vi.unstubAllGlobals());

const oanda: BrokerConfig = {
  id: 'b1', broker_name: 'OANDA', account_type: 'PAPER', host: null, port: null, client_id: null, account_id: '001-abc',
  is_active: true, config: {}, created_at: '2025-01-01T00:00:00Z', updated_at: '2025-01-01T00:00:00Z', api_key_set: true,
};

const run: KillSwitchProgress = {
  running: false, total: 2, done: 2, presses: 1, source: 'api/manual', user: 'tom',
  started_at: '2026-12-04T10:00:00Z', finished_at: '2026-12-04T10:00:01Z',
  results: [{ operation_id: 'a', outcome: 'flat', detail: null }, { operation_id: 'b', outcome: 'flat', detail: null }],
};

function finished(fields: Partial<KillSwitchResult>): KillSwitchResult {
  return { ...run, operations: [], count: 0, joined: false, ...fields };
}

function serve(overrides: Record<string, unknown> = {}) {
  return mockApi({ 'GET /api/brokers': [oanda], 'GET /api/strategies': [], ...overrides });
}

describe('broker configurations', () => {
  it('shows whether a key is set, never a secret', async () => {
    serve();
    renderWithProviders(<SettingsPage />);
    expect(await screen.findByTestId('broker-key-b1')).toHaveTextContent('set');
    expect(screen.getByTestId('broker-configs')).not.toHaveTextContent('api_key');
  });

  it('lets viewers and traders read only', async () => {
    serve();
    renderWithProviders(<SettingsPage />, { role: 'trader' });
    await screen.findByTestId('broker-row-b1');
    expect(screen.queryByTestId('broker-add')).not.toBeInTheDocument();
    expect(screen.queryByTestId('broker-edit-b1')).not.toBeInTheDocument();
  });

  it('edits without resending the key unless a new one is typed', async () => {
    const api = serve({ 'PUT /api/brokers/b1': { ...oanda, account_id: '002' } });
    renderWithProviders(<SettingsPage />, { role: 'admin' });
    await userEvent.click(await screen.findByTestId('broker-edit-b1'));
    const dialog = await screen.findByTestId('broker-dialog');
    const key = within(dialog).getByTestId('broker-api_key');
    expect(key).toHaveValue('');
    expect(key).toHaveAttribute('type', 'password');
    expect(dialog).toHaveTextContent('A key is set');
    await userEvent.clear(within(dialog).getByTestId('broker-account_id'));
    await userEvent.type(within(dialog).getByTestId('broker-account_id'), '002');
    await userEvent.click(within(dialog).getByTestId('broker-save'));
    await waitFor(() => expect(api.calls('PUT /api/brokers/b1')).toHaveLength(1));
    const body = api.calls('PUT /api/brokers/b1')[0].body as Record<string, unknown>;
    expect(body).toMatchObject({ account_id: '002', account_type: 'PAPER' });
    expect(body).not.toHaveProperty('api_key');
    expect(body).not.toHaveProperty('broker_name');
  });

  it('shows a server validation error on its field', async () => {
    serve({
      'POST /api/brokers': () => Response.json({ detail: [{ loc: ['body', 'confirm_live'], msg: 'a LIVE account trades real money', type: 'value_error' }] }, { status: 422 }),
    });
    renderWithProviders(<SettingsPage />, { role: 'admin' });
    await userEvent.click(await screen.findByTestId('broker-add'));
    const dialog = await screen.findByTestId('broker-dialog');
    await userEvent.selectOptions(within(dialog).getByTestId('broker-account_type'), 'LIVE');
    await userEvent.click(within(dialog).getByTestId('broker-save'));
    expect(await within(dialog).findByText('a LIVE account trades real money')).toBeInTheDocument();
  });
});

describe('kill switch', () => {
  it('is disabled for viewers', async () => {
    serve();
    renderWithProviders(<SettingsPage />, { role: 'viewer' });
    expect(await screen.findByTestId('kill-switch')).toBeDisabled();
  });

  it('flattens everything only after a confirmation', async () => {
    const api = serve({ 'POST /api/risk/kill-switch': finished({ operations: ['a', 'b'], count: 2 }) });
    renderWithProviders(<SettingsPage />, { role: 'trader' });
    await userEvent.click(await screen.findByTestId('kill-switch'));
    expect(await screen.findByTestId('confirm-dialog')).toBeInTheDocument();
    expect(api.calls('POST /api/risk/kill-switch')).toHaveLength(0);
    await userEvent.click(within(screen.getByTestId('kill-switch-confirm')).getByTestId('confirm-ok'));
    expect(await screen.findByTestId('kill-switch-result')).toHaveTextContent('2 operation(s) flattened and paused.');
    expect(api.calls('POST /api/risk/kill-switch')).toHaveLength(1);
  });

  it('shows progress while the press runs, then what was done to each operation', async () => {
    let answer: (value: unknown) => void = () => undefined;
    let answered = false;
    const api = serve({
      'POST /api/risk/kill-switch': () => new Promise((resolve) => { answer = resolve; }),
      'GET /api/risk/kill-switch': () => (answered
        ? { ...run, total: 3, done: 3 } : { ...run, running: true, total: 3, done: 1, finished_at: null }),
    });
    renderWithProviders(<SettingsPage />, { role: 'trader' });
    await userEvent.click(await screen.findByTestId('kill-switch'));
    await userEvent.click(within(screen.getByTestId('kill-switch-confirm')).getByTestId('confirm-ok'));
    expect(await screen.findByTestId('kill-switch-progress')).toHaveTextContent('1 of 3 operation(s) done');
    await waitFor(() => expect(screen.queryByTestId('confirm-dialog')).not.toBeInTheDocument());
    expect(screen.getByTestId('kill-switch')).toBeDisabled();
    answered = true;
    answer(Response.json(finished({
      operations: ['a'], count: 1, total: 3, done: 3,
      results: [
        { operation_id: 'a', outcome: 'flat', detail: null },
        { operation_id: 'b', outcome: 'already', detail: 'already paused and flat' },
        { operation_id: 'c', outcome: 'failed', detail: 'TimeoutError: the broker did not answer' },
      ],
    })));
    const result = await screen.findByTestId('kill-switch-result');
    expect(result).toHaveTextContent('1 operation(s) flattened and paused; 1 already paused and flat; 1 failed.');
    expect(screen.queryByTestId('confirm-dialog')).not.toBeInTheDocument();
    expect(screen.getByTestId('kill-switch-failed')).toHaveTextContent('c: TimeoutError: the broker did not answer');
    expect(api.calls('POST /api/risk/kill-switch')).toHaveLength(1);
    expect(api.calls('GET /api/risk/kill-switch').length).toBeGreaterThan(0);
  });

  it('says which exits are still working at the broker', async () => {
    serve({ 'POST /api/risk/kill-switch': finished({ operations: ['a', 'b'], count: 2, results: [
      { operation_id: 'a', outcome: 'flat', detail: null }, { operation_id: 'b', outcome: 'closing', detail: null }] }) });
    renderWithProviders(<SettingsPage />, { role: 'trader' });
    await userEvent.click(await screen.findByTestId('kill-switch'));
    await userEvent.click(within(screen.getByTestId('kill-switch-confirm')).getByTestId('confirm-ok'));
    expect(await screen.findByTestId('kill-switch-result')).toHaveTextContent(
      '2 operation(s) paused: 1 flat, 1 with its exit still working at the broker (the fill follows).');
  });

  it('says so when the press fails', async () => {
    serve({ 'POST /api/risk/kill-switch': () => Response.json({ detail: 'the store is unreachable' }, { status: 503 }) });
    renderWithProviders(<SettingsPage />, { role: 'trader' });
    await userEvent.click(await screen.findByTestId('kill-switch'));
    await userEvent.click(within(screen.getByTestId('kill-switch-confirm')).getByTestId('confirm-ok'));
    expect(await screen.findByTestId('kill-switch-error')).toHaveTextContent('the store is unreachable');
    expect(screen.queryByTestId('kill-switch-result')).not.toBeInTheDocument();
  });

  it('says when there was nothing to do', async () => {
    serve({ 'POST /api/risk/kill-switch': finished({ results: [
      { operation_id: 'a', outcome: 'already', detail: null }, { operation_id: 'b', outcome: 'already', detail: null }] }) });
    renderWithProviders(<SettingsPage />, { role: 'trader' });
    await userEvent.click(await screen.findByTestId('kill-switch'));
    await userEvent.click(within(screen.getByTestId('kill-switch-confirm')).getByTestId('confirm-ok'));
    expect(await screen.findByTestId('kill-switch-result')).toHaveTextContent(
      'Nothing to do: 2 operation(s) already paused and flat.');
  });

  it('says when a press joined one already running', async () => {
    serve({ 'POST /api/risk/kill-switch': finished({ operations: ['a'], count: 1, joined: true, presses: 2 }) });
    renderWithProviders(<SettingsPage />, { role: 'trader' });
    await userEvent.click(await screen.findByTestId('kill-switch'));
    await userEvent.click(within(screen.getByTestId('kill-switch-confirm')).getByTestId('confirm-ok'));
    expect(await screen.findByTestId('kill-switch-result')).toHaveTextContent('this one joined it');
  });
});

describe('risk defaults', () => {
  it('says where the defaults are configured', async () => {
    serve();
    renderWithProviders(<SettingsPage />);
    const section = await screen.findByTestId('risk-defaults');
    expect(section).toHaveTextContent('config/config.yaml');
    expect(section).toHaveTextContent('default_stop_loss_type');
  });
});
