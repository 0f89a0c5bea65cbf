import { useState } from 'react';
import { Box, IconButton, Tooltip } from '@mui/material';
import PauseIcon from '@mui/icons-material/Pause';
import PlayArrowIcon from '@mui/icons-material/PlayArrow';
import StopIcon from '@mui/icons-material/Stop';
import { useOperationAction, type OperationAction } from '../../api/hooks';
import type { Operation } from '../../api/models';
import { ConfirmDialog } from '../../components/ConfirmDialog';

/**
 * Pause (when active), resume (when paused) and close (unless closed, after
 * a confirmation) one operation. Render only for traders.
 */
export function OperationActions({ operation, onError }: { operation: Operation; onError: (error: unknown) => void }) {
  const action = useOperationAction();
  const [confirming, setConfirming] = useState(false);
  const { id, status } = operation;
  const busy = action.isPending;

  const run = (name: OperationAction) => action.mutateAsync({ id, action: name });
  const quick = (name: OperationAction) => {
    run(name).catch(onError);
  };

  return (
    <Box sx={{ display: 'flex', gap: 0.5, justifyContent: 'flex-end' }} onClick={(e) => e.stopPropagation()}>
      {status === 'active' && (
        <Tooltip title="Pause: open no new positions (protective orders keep working)">
          <span>
            <IconButton data-testid={`op-pause-${id}`} aria-label="pause" disabled={busy} onClick={() => quick('pause')}>
              <PauseIcon fontSize="small" />
            </IconButton>
          </span>
        </Tooltip>
      )}
      {status === 'paused' && (
        <Tooltip title="Resume trading">
          <span>
            <IconButton data-testid={`op-resume-${id}`} aria-label="resume" disabled={busy} onClick={() => quick('resume')}>
              <PlayArrowIcon fontSize="small" />
            </IconButton>
          </span>
        </Tooltip>
      )}
      {status !== 'closed' && (
        <Tooltip title="Close: flatten the position, then stop for good">
          <span>
            <IconButton data-testid={`op-close-${id}`} aria-label="close" color="error" disabled={busy}
              onClick={() => setConfirming(true)}>
              <StopIcon fontSize="small" />
            </IconButton>
          </span>
        </Tooltip>
      )}
      <ConfirmDialog open={confirming} danger title={`Close ${operation.asset} ${operation.strategy_name}?`}
        message={<>The open position is closed at market and the operation stops for good. Nothing is erased: its
          journal, trades and orders stay.</>}
        confirmLabel="Close operation" onConfirm={() => run('close')} onClose={() => setConfirming(false)} />
    </Box>
  );
}
