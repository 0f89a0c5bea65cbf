import { Typography } from '@mui/material';
import { useMode } from '../api/hooks';

/** "Trading Portal - TRADING" / "- SIMULATION", from `GET /api/v1/mode`. */
export function captionFor(mode: string | undefined): string {
  return mode ? `Trading Portal - ${mode.toUpperCase()}` : 'Trading Portal';
}

export function Caption() {
  const mode = useMode();
  const text = mode.data?.caption ?? captionFor(mode.data?.mode);
  return (
    <Typography data-testid="app-caption" variant="h6" component="h1" noWrap
      sx={{ color: mode.data?.mode === 'simulation' ? 'secondary.main' : 'primary.main' }}>
      {text}
    </Typography>
  );
}
