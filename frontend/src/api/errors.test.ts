import { describe, expect, it } from 'vitest';
import { ApiError, fieldErrors, fieldName } from './errors';

describe('ApiError', () => {
  it('maps a 422 onto field names without the location', () => {
    const error = new ApiError(422, {
      detail: [
        { loc: ['body', 'quantity'], msg: 'Input should be greater than 0', type: 'greater_than' },
        { loc: ['body', 'strategy_config', 'fast_period'], msg: 'must be below slow_period', type: 'value_error' },
        { loc: ['body', 'quantity'], msg: 'too big', type: 'x' },
      ],
    });
    expect(fieldErrors(error)).toEqual({
      quantity: 'Input should be greater than 0; too big',
      'strategy_config.fast_period': 'must be below slow_period',
    });
    expect(error.message).toContain('strategy_config.fast_period: must be below slow_period');
  });

  it('uses a string detail as its message', () => {
    const error = new ApiError(409, { detail: 'operation is closed' });
    expect(error.message).toBe('operation is closed');
    expect(fieldErrors(error)).toEqual({});
  });

  it('explains rate limits and unreachable servers', () => {
    expect(new ApiError(429, { detail: 'x' }, '30').message).toBe('Too many requests; retry in 30 s');
    expect(new ApiError(0, undefined).message).toBe('The server cannot be reached');
  });

  it('has no field errors for other errors', () => {
    expect(fieldErrors(new Error('x'))).toEqual({});
    expect(fieldName(['query', 'last_sequence'])).toBe('last_sequence');
  });
});
