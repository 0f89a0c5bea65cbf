import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { StrategyInfo } from '../../api/models';
import { mockApi, renderWithProviders } from '../../test/utils';
import CreateOperationPage from './CreateOperationPage';

const STRATEGIES: StrategyInfo[] = [
  {
    name: 'MeanReversionStrategy', description: 'Bollinger and RSI.', higher_bar_sizes: [], defaults: {},
    params_schema: {
      properties: {
        bb_std: { default: 2.0, exclusiveMinimum: 0, title: 'Bb Std', type: 'number' },
        rsi_oversold: { default: 30, exclusiveMinimum: 0, exclusiveMaximum: 100, title: 'Rsi Oversold', type: 'number' },
      },
    },
  },
  {
    name: 'MomentumStrategy', description: 'SMA crossover.', higher_bar_sizes: [], defaults: {},
    params_schema: {
      properties: {
        fast_period: { default: 10, minimum: 1, title: 'Fast Period', type: 'integer' },
        slow_period: { default: 30, minimum: 2, title: 'Slow Period', type: 'integer' },
      },
    },
  },
  {
    name: 'TrendFollowingStrategy', description: 'Donchian breakout.', higher_bar_sizes: ['1 day'], defaults: {},
    params_schema: {
      properties: {
        trend_bar_size: { default: '1 day', enum: ['1 hour', '4 hours', '1 day'], title: 'Trend Bar Size', type: 'string' },
      },
    },
  },
];

const tid = (id: string) => screen.getByTestId(id);

function setup(post: Parameters<typeof mockApi>[0][string], role: 'trader' | 'viewer' = 'trader') {
  const api = mockApi({ 'GET /api/strategies': STRATEGIES, 'POST /api/operations': post });
  renderWithProviders(<CreateOperationPage />, { role, route: '/operations/new', path: '/operations/new' });
  return api;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('CreateOperationPage', () => {
  it('builds the parameter inputs from the chosen strategy\'s schema', async () => {
    setup({});
    await screen.findByTestId('create-submit');
    // MomentumStrategy is chosen first, with its defaults
    expect(tid('create-strategy')).toHaveValue('MomentumStrategy');
    expect(tid('create-param-fast_period')).toHaveValue(10);
    expect(tid('create-param-slow_period')).toHaveValue(30);
    fireEvent.change(tid('create-strategy'), { target: { value: 'MeanReversionStrategy' } });
    expect(screen.queryByTestId('create-param-fast_period')).toBeNull();
    expect(tid('create-param-rsi_oversold')).toHaveValue(30);
    fireEvent.change(tid('create-strategy'), { target: { value: 'TrendFollowingStrategy' } });
    expect(tid('create-param-trend_bar_size').tagName).toBe('SELECT');
    expect(tid('create-param-trend_bar_size')).toHaveValue('1 day');
    // the strategy reads daily bars: they are added to the bar sizes
    const chosen = Array.from((tid('create-bar-sizes') as HTMLSelectElement).selectedOptions, (o) => o.value);
    expect(chosen).toEqual(['1 hour', '1 day']);
  });

  it('sends the form, typed, and opens the new operation', async () => {
    const api = setup((_request: Request, body: unknown) => Response.json({ id: 'abc123', ...(body as object) }, { status: 201 }));
    const user = userEvent.setup();
    await screen.findByTestId('create-submit');
    await user.clear(tid('create-param-fast_period'));
    await user.type(tid('create-param-fast_period'), '5');
    fireEvent.change(tid('create-stop-loss-type'), { target: { value: 'PERCENTAGE' } });
    await user.type(tid('create-stop-loss-value'), '0.05');
    fireEvent.change(tid('create-crash-recovery-mode'), { target: { value: 'RESUME' } });
    await user.type(tid('create-quantity'), '10000');
    await user.click(tid('create-submit'));
    await screen.findByTestId('other-route');
    expect(api.calls('POST /api/operations')[0]?.body).toEqual({
      asset: 'USD-CAD', bar_sizes: ['1 hour'], primary_bar_size: '1 hour', strategy_name: 'MomentumStrategy',
      strategy_config: { fast_period: 5, slow_period: 30 }, stop_loss_type: 'PERCENTAGE', stop_loss_value: 0.05,
      crash_recovery_mode: 'RESUME', quantity: 10000, confirm_live: false,
    });
  });

  it('shows a 422 under the field it names and stays on the form', async () => {
    const api = setup(() => Response.json({
      detail: [{ loc: ['body', 'quantity'], msg: 'Input should be greater than 0', type: 'greater_than' }],
    }, { status: 422 }));
    const user = userEvent.setup();
    await screen.findByTestId('create-submit');
    await user.type(tid('create-quantity'), '-1');
    await user.click(tid('create-submit'));
    expect(await screen.findByTestId('field-error-quantity')).toHaveTextContent('Input should be greater than 0');
    expect(screen.queryByTestId('other-route')).toBeNull();
    expect(api.calls('POST /api/operations')).toHaveLength(1);
    // typing in the field clears its error
    await user.type(tid('create-quantity'), '5');
    expect(screen.queryByTestId('field-error-quantity')).toBeNull();
  });

  it('shows a strategy parameter\'s 422 under that parameter, others in the alert', async () => {
    setup(() => Response.json({
      detail: [
        { loc: ['body', 'strategy_config', 'fast_period'], msg: 'fast_period must be less than slow_period (30)', type: 'value_error' },
        { loc: ['body', 'confirm_live'], msg: 'the IBKR account is LIVE', type: 'value_error' },
        { loc: ['body', 'broker'], msg: 'this engine trades through PAPER', type: 'value_error' },
      ],
    }, { status: 422 }));
    await screen.findByTestId('create-submit');
    fireEvent.click(tid('create-submit'));
    expect(await screen.findByTestId('field-error-strategy_config.fast_period'))
      .toHaveTextContent('fast_period must be less than slow_period (30)');
    expect(tid('field-error-confirm_live')).toHaveTextContent('the IBKR account is LIVE');
    expect(tid('create-error')).toHaveTextContent('broker: this engine trades through PAPER');
  });

  it('checks parameter bounds from the schema before sending', async () => {
    const api = setup({});
    const user = userEvent.setup();
    await screen.findByTestId('create-submit');
    await user.clear(tid('create-param-fast_period'));
    await user.type(tid('create-param-fast_period'), '0');
    await user.click(tid('create-submit'));
    expect(await screen.findByTestId('field-error-strategy_config.fast_period')).toHaveTextContent('must be at least 1');
    expect(api.calls('POST /api/operations')).toHaveLength(0);
  });

  it('shows other errors in an alert', async () => {
    setup(() => Response.json({ detail: 'Too many requests' }, { status: 429, headers: { 'Retry-After': '30' } }));
    await screen.findByTestId('create-submit');
    fireEvent.click(tid('create-submit'));
    await waitFor(() => expect(tid('create-error')).toHaveTextContent(/Too many requests; retry in 30 s/));
  });

  it('does not let a viewer create', async () => {
    setup({}, 'viewer');
    await screen.findByTestId('create-submit');
    expect(tid('create-submit')).toBeDisabled();
    expect(tid('create-forbidden')).toBeInTheDocument();
  });
});
