import { describe, expect, it } from 'vitest';
import { boundsText, initialValues, paramFields, strategyConfig, validateParam, validateParams } from './paramSchema';

// Parameter schemas as GET /api/strategies returns them (pydantic model_json_schema()).
const MOMENTUM = {
  additionalProperties: false, title: 'MomentumParams', type: 'object',
  properties: {
    fast_period: { default: 10, description: 'bars in the fast SMA', minimum: 1, title: 'Fast Period', type: 'integer' },
    slow_period: { default: 30, description: 'bars in the slow SMA', minimum: 2, title: 'Slow Period', type: 'integer' },
  },
};
const MEAN_REVERSION_RSI = {
  properties: {
    bb_std: { default: 2.0, exclusiveMinimum: 0, title: 'Bb Std', type: 'number' },
    rsi_oversold: { default: 30.0, exclusiveMaximum: 100, exclusiveMinimum: 0, title: 'Rsi Oversold', type: 'number' },
  },
};
const OVERNIGHT = {
  properties: {
    exit_hour: { default: 20, maximum: 23, minimum: 0, title: 'Exit Hour', type: 'integer' },
    entry: { default: 'MARKET', enum: ['MARKET', 'STOP'], title: 'Entry', type: 'string' },
  },
};
const OTHER = {
  $defs: { Side: { enum: ['LONG', 'SHORT', 'BOTH'], title: 'Side', type: 'string' } },
  required: ['label'],
  properties: {
    side: { $ref: '#/$defs/Side', default: 'BOTH' },
    use_filter: { default: true, title: 'Use Filter', type: 'boolean' },
    label: { type: 'string' },
    cap: { anyOf: [{ type: 'number' }, { type: 'null' }], default: null },
  },
};

describe('paramFields', () => {
  it('builds integer fields with defaults and minimums', () => {
    expect(paramFields(MOMENTUM)).toEqual([
      expect.objectContaining({ name: 'fast_period', label: 'Fast Period', kind: 'integer', default: 10, minimum: 1,
        description: 'bars in the fast SMA' }),
      expect.objectContaining({ name: 'slow_period', kind: 'integer', default: 30, minimum: 2 }),
    ]);
  });

  it('keeps exclusive bounds of numbers', () => {
    const [std, rsi] = paramFields(MEAN_REVERSION_RSI);
    expect(std).toMatchObject({ kind: 'number', exclusiveMinimum: 0, default: 2 });
    expect(rsi).toMatchObject({ exclusiveMinimum: 0, exclusiveMaximum: 100 });
    expect(boundsText(rsi!)).toBe('> 0, < 100');
    expect(boundsText(paramFields(MOMENTUM)[0]!)).toBe('≥ 1');
  });

  it('makes enums (direct or through $defs), booleans, strings and nullable numbers', () => {
    expect(paramFields(OVERNIGHT)[1]).toMatchObject({ kind: 'enum', options: ['MARKET', 'STOP'], default: 'MARKET' });
    const [side, filter, label, cap] = paramFields(OTHER);
    expect(side).toMatchObject({ kind: 'enum', options: ['LONG', 'SHORT', 'BOTH'], default: 'BOTH' });
    expect(filter).toMatchObject({ kind: 'boolean', default: true, label: 'Use Filter' });
    expect(label).toMatchObject({ kind: 'string', required: true, label: 'Label', default: undefined });
    expect(cap).toMatchObject({ kind: 'number', default: undefined });
  });

  it('gives nothing for a missing schema', () => {
    expect(paramFields(undefined)).toEqual([]);
  });
});

describe('initial values and the config sent', () => {
  it('starts from the defaults', () => {
    expect(initialValues(paramFields(MOMENTUM))).toEqual({ fast_period: '10', slow_period: '30' });
    expect(initialValues(paramFields(OTHER))).toEqual({ side: 'BOTH', use_filter: true, label: '', cap: '' });
  });

  it('sends numbers as numbers and leaves empty values out (the server applies the default)', () => {
    const fields = paramFields({ properties: { ...MOMENTUM.properties, ...OVERNIGHT.properties, ...OTHER.properties } });
    const config = strategyConfig(fields, {
      fast_period: ' 5 ', slow_period: '', exit_hour: '21', entry: 'STOP', use_filter: false, label: 'x', cap: '0.5',
    });
    expect(config).toEqual({ fast_period: 5, exit_hour: 21, entry: 'STOP', use_filter: false, label: 'x', cap: 0.5 });
  });
});

describe('validateParam', () => {
  const [fast] = paramFields(MOMENTUM);
  const [, rsi] = paramFields(MEAN_REVERSION_RSI);
  const [hour, entry] = paramFields(OVERNIGHT);

  it('checks integers and their bounds', () => {
    expect(validateParam(fast!, '5')).toBeNull();
    expect(validateParam(fast!, '0')).toBe('must be at least 1');
    expect(validateParam(fast!, '2.5')).toBe('must be a whole number');
    expect(validateParam(fast!, 'abc')).toBe('must be a number');
    expect(validateParam(hour!, '24')).toBe('must be at most 23');
  });

  it('checks exclusive bounds', () => {
    expect(validateParam(rsi!, '0')).toBe('must be greater than 0');
    expect(validateParam(rsi!, '100')).toBe('must be less than 100');
    expect(validateParam(rsi!, '99.5')).toBeNull();
  });

  it('accepts an empty value that has a default, and only listed enum values', () => {
    expect(validateParam(fast!, '')).toBeNull();
    expect(validateParam(entry!, 'LIMIT')).toBe('choose one of MARKET, STOP');
    expect(validateParams(paramFields(OTHER), { side: 'BOTH', use_filter: true, label: '', cap: '' }))
      .toEqual({ label: 'required' });
  });
});
