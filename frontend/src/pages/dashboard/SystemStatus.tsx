import { useState } from 'react';
import { Alert, Box, Button, Chip, Table, TableBody, TableCell, TableRow, Tooltip } from '@mui/material';
import { useHealth, useMode, useRunCycle } from '../../api/hooks';
import type { Health } from '../../api/models';
import { errorMessage } from '../../api/errors';
import { useAuth } from '../../auth/useAuth';
import { formatDateTime, formatQuantity, formatRelative } from '../../format/format';
import { Section } from '../../components/Section';
import { ErrorState, Loading } from '../../components/states';

function Ok({ ok, label }: { ok: boolean; label: string }) {
  return <Chip size="small" variant="outlined" color={ok ? 'success' : 'error'} label={label} />;
}

/** The trading worker: null when the service runs none; `error` when its status could not be read. */
function WorkerRows({ worker }: { worker: Health['worker'] }) {
  if (worker === null || 'error' in worker) {
    return (
      <TableRow>
        <TableCell>Worker</TableCell>
        <TableCell data-testid="status-worker">
          {worker === null ? 'none' : <><Ok ok={false} label="unknown" /> {worker.error}</>}
        </TableCell>
      </TableRow>
    );
  }
  const workerOk = worker.running || !worker.enabled;
  return (
    <>
      <TableRow>
        <TableCell>Worker</TableCell>
        <TableCell data-testid="status-worker">
          <Ok ok={workerOk} label={!worker.enabled ? 'disabled' : worker.running ? 'running' : 'stopped'} />{' '}
          every {formatQuantity(worker.interval_seconds)} s · {formatQuantity(worker.cycles)} cycles
        </TableCell>
      </TableRow>
      <TableRow>
        <TableCell>Last cycle</TableCell>
        <TableCell data-testid="status-last-cycle">
          {worker.last_cycle_at
            ? <Tooltip title={formatDateTime(worker.last_cycle_at, { seconds: true })}><span>{formatRelative(worker.last_cycle_at)}</span></Tooltip>
            : 'none yet'}
          {worker.next_run_at && <Box component="span" sx={{ color: 'text.secondary' }}> · next {formatRelative(worker.next_run_at)}</Box>}
        </TableCell>
      </TableRow>
    </>
  );
}

function StatusRows({ health, mode }: { health: Health; mode?: string }) {
  const { store, broker, worker, engine } = health;
  return (
    <Table>
      <TableBody>
        <TableRow>
          <TableCell>Mode</TableCell>
          <TableCell data-testid="status-mode">{(mode ?? health.mode).toUpperCase()}</TableCell>
        </TableRow>
        <TableRow>
          <TableCell>Store</TableCell>
          <TableCell data-testid="status-store">
            <Ok ok={store.ok} label={store.ok ? 'up' : 'down'} />{' '}
            {store.embedded !== undefined && (store.embedded ? 'embedded' : 'external')}
          </TableCell>
        </TableRow>
        <TableRow>
          <TableCell>Broker</TableCell>
          <TableCell data-testid="status-broker">
            <Ok ok={broker.ok} label={broker.state} /> {broker.name}
          </TableCell>
        </TableRow>
        <WorkerRows worker={worker} />
        <TableRow>
          <TableCell>Engine</TableCell>
          <TableCell>{engine.running}/{engine.runners} runners · {formatQuantity(engine.bars_processed)} bars</TableCell>
        </TableRow>
      </TableBody>
    </Table>
  );
}

/** Store, broker, worker (and its last cycle), engine and mode from `GET /health`. */
export function SystemStatus() {
  const health = useHealth();
  const mode = useMode();
  const { can } = useAuth();
  const cycle = useRunCycle();
  const [message, setMessage] = useState<string | null>(null);

  const runCycle = async () => {
    setMessage(null);
    try {
      await cycle.mutateAsync(undefined);
      setMessage('Trading cycle run (journaled as Manual (console))');
    } catch (error) {
      setMessage(`Cycle failed: ${errorMessage(error)}`);
    }
  };

  const status = health.data?.status;
  return (
    <Section testId="dash-system-status" dense title={<>System status {status && (
      <Chip size="small" sx={{ ml: 1 }} color={status === 'ok' ? 'success' : 'error'} label={status} data-testid="status-overall" />
    )}</>}
    action={can('trader') && (
      <Button onClick={() => void runCycle()} disabled={cycle.isPending} data-testid="run-cycle">Run cycle now</Button>
    )}>
      {health.isPending && <Loading />}
      {health.isError && health.data === undefined && <ErrorState error={health.error} onRetry={() => void health.refetch()} />}
      {health.data && health.data.problems.length > 0 && (
        <Alert severity="error" sx={{ m: 1 }}>{health.data.problems.join('; ')}</Alert>
      )}
      {health.data && <StatusRows health={health.data} mode={mode.data?.mode} />}
      {message && <Alert severity={message.startsWith('Cycle failed') ? 'error' : 'success'} sx={{ m: 1 }}
        onClose={() => setMessage(null)}>{message}</Alert>}
    </Section>
  );
}
