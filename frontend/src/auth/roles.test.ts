import { describe, expect, it } from 'vitest';
import { hasRole } from './roles';

describe('hasRole', () => {
  it('orders admin > trader > viewer', () => {
    expect(hasRole('admin', 'trader')).toBe(true);
    expect(hasRole('trader', 'trader')).toBe(true);
    expect(hasRole('viewer', 'trader')).toBe(false);
    expect(hasRole('trader', 'admin')).toBe(false);
    expect(hasRole(null, 'viewer')).toBe(false);
  });
});
