import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen } from '@testing-library/react';
import { Caption, captionFor } from './Caption';
import { mockApi, renderWithProviders } from '../test/utils';

afterEach(() => vi.unstubAllGlobals());

describe('Caption', () => {
  it('reads the mode from the API', async () => {
    mockApi({ 'GET /api/v1/mode': { mode: 'simulation', broker: 'paper', caption: 'Trading Portal - SIMULATION' } });
    renderWithProviders(<Caption />);
    expect(await screen.findByText('Trading Portal - SIMULATION')).toHaveAttribute('data-testid', 'app-caption');
  });

  it('builds the caption from the mode when the answer has none', async () => {
    mockApi({ 'GET /api/v1/mode': { mode: 'trading', broker: 'paper' } });
    renderWithProviders(<Caption />);
    expect(await screen.findByText('Trading Portal - TRADING')).toBeInTheDocument();
    expect(captionFor(undefined)).toBe('Trading Portal');
  });
});
