import { Box, Tooltip, Typography } from '@mui/material';
import CircleIcon from '@mui/icons-material/Circle';
import { useFeedStatus } from '../feed/hooks';
import type { FeedState } from '../feed/LiveFeedClient';
import { POLL_INTERVAL_MS } from '../feed/LiveFeedProvider';

const LABELS: Record<FeedState, string> = {
  live: 'live',
  connecting: 'connecting',
  reconnecting: 'reconnecting',
  unauthorized: 'signed out',
  idle: 'offline',
  stopped: 'offline',
};

/** The live feed's state (data-testid `feed-status`; its text contains "live" only when connected). */
export function FeedStatus() {
  const { state, connected } = useFeedStatus();
  const tip = connected
    ? 'Live feed connected: updates are pushed, nothing polls'
    : `Live feed down: polling every ${POLL_INTERVAL_MS / 1000} s and reconnecting`;
  return (
    <Tooltip title={tip}>
      <Box data-testid="feed-status" data-state={state} sx={{ display: 'flex', alignItems: 'center', gap: 0.75 }}>
        <CircleIcon sx={{ fontSize: 10, color: connected ? 'success.main' : state === 'connecting' ? 'warning.main' : 'error.main' }} />
        <Typography variant="caption" sx={{ fontWeight: 600 }}>{LABELS[state]}</Typography>
      </Box>
    </Tooltip>
  );
}
