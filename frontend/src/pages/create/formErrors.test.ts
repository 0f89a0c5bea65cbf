import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors';
import { formErrors, normalizeField } from './formErrors';

const SHOWN = new Set(['quantity', 'bar_sizes', 'stop_loss_value', 'strategy_config.fast_period']);
const isShown = (field: string) => SHOWN.has(field);

describe('formErrors', () => {
  it('puts a FastAPI validation error under the field it names', () => {
    const error = new ApiError(422, {
      detail: [{ loc: ['body', 'quantity'], msg: 'Input should be greater than 0', type: 'greater_than' }],
    });
    expect(formErrors(error, isShown)).toEqual({
      fields: { quantity: 'Input should be greater than 0' }, otherFields: [], general: null,
    });
  });

  it('maps a dotted engine field (InvalidSpecError) and drops "Value error, "', () => {
    const error = new ApiError(422, {
      detail: [
        { loc: ['body', 'strategy_config', 'fast_period'], msg: 'fast_period must be less than slow_period (20)', type: 'value_error' },
        { loc: ['body', 'bar_sizes', 0], msg: "Value error, unknown bar size '2 hours'", type: 'value_error' },
      ],
    });
    expect(formErrors(error, isShown).fields).toEqual({
      'strategy_config.fast_period': 'fast_period must be less than slow_period (20)',
      bar_sizes: "unknown bar size '2 hours'",
    });
  });

  it('lists errors of fields the form does not show, and body-level errors, apart', () => {
    const error = new ApiError(422, {
      detail: [
        { loc: ['body', 'confirm_live'], msg: 'the PAPER account is LIVE', type: 'value_error' },
        { loc: ['body'], msg: 'Field required', type: 'missing' },
      ],
    });
    expect(formErrors(error, isShown)).toEqual({
      fields: {}, otherFields: [['confirm_live', 'the PAPER account is LIVE']], general: 'Field required',
    });
  });

  it('joins several messages of one field', () => {
    const error = new ApiError(422, {
      detail: [
        { loc: ['body', 'bar_sizes', 0], msg: 'bad one', type: 'x' },
        { loc: ['body', 'bar_sizes', 1], msg: 'bad two', type: 'x' },
      ],
    });
    expect(formErrors(error, isShown).fields.bar_sizes).toBe('bad one; bad two');
  });

  it('turns any other failure into a general message', () => {
    expect(formErrors(new ApiError(409, { detail: 'operation is closed' }), isShown))
      .toEqual({ fields: {}, otherFields: [], general: 'operation is closed' });
    expect(formErrors(new ApiError(422, { detail: 'no market data' }), isShown).general).toBe('no market data');
    expect(formErrors(new Error('network down'), isShown).general).toBe('network down');
  });
});

describe('normalizeField', () => {
  it('shows list items on their list', () => {
    expect(normalizeField('bar_sizes.0')).toBe('bar_sizes');
    expect(normalizeField('strategy_config.fast_period')).toBe('strategy_config.fast_period');
  });
});
